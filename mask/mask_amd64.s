//go:build !purego

#include "textflag.h"

// Both kernels compute dst[i] = src[i] XOR key[i&3] for i in [0, n), with the key given as a
// little-endian uint32 k already rotated to the slice's starting position. n is positive and a
// multiple of 16, so every 16- or 32-byte block starts at the same key phase and one broadcast
// register masks them all. dst == src (masking in place) or the two do not overlap.

// func xorAVX2(dst, src *byte, n int, k uint32)
//
// Inputs of 256 bytes and more whose dst is not 32-byte aligned are realigned so that no store
// in the main loop splits a cache line: the first and the last 32 bytes are loaded and masked
// up front (before any store, so in-place masking still reads the original bytes), the loop
// runs over the 32-byte aligned middle with the key rotated to that phase, and the two saved
// vectors are stored last; where they overlap the middle they write the same values.
TEXT ·xorAVX2(SB), NOSPLIT, $0-28
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	MOVL         k+24(FP), AX
	VMOVD        AX, X0
	VPBROADCASTD X0, Y0
	XORQ         R8, R8      // R8 != 0: head and tail vectors to store at the end
	CMPQ         CX, $256
	JB           avx_main
	TESTQ        $31, DI
	JZ           avx_main

	// Head Y5 = block [0,32), tail Y6 = block [n-32,n); n-32 is a multiple of 16, phase k.
	VPXOR (SI), Y0, Y5
	VPXOR -32(SI)(CX*1), Y0, Y6
	MOVQ  DI, R8
	LEAQ  -32(DI)(CX*1), R9

	// Skip a = -dst & 31 bytes (1..31) to the aligned middle; whole 32-byte blocks only.
	MOVQ DI, DX
	NEGQ DX
	ANDQ $31, DX
	ADDQ DX, DI
	ADDQ DX, SI
	SUBQ DX, CX
	ANDQ $-32, CX

	// The middle starts a bytes into the key: rotate k right by 8*(a&3) bits.
	MOVQ         CX, R10
	MOVL         DX, CX
	ANDL         $3, CX
	SHLL         $3, CX
	RORL         CX, AX
	MOVQ         R10, CX
	VMOVD        AX, X0
	VPBROADCASTD X0, Y0

avx_main:
	CMPQ CX, $128
	JB   avx_lt128

	PCALIGN $32
avx_loop128:
	VPXOR   (SI), Y0, Y1
	VPXOR   32(SI), Y0, Y2
	VPXOR   64(SI), Y0, Y3
	VPXOR   96(SI), Y0, Y4
	VMOVDQU Y1, (DI)
	VMOVDQU Y2, 32(DI)
	VMOVDQU Y3, 64(DI)
	VMOVDQU Y4, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $128, CX
	CMPQ    CX, $128
	JAE     avx_loop128

avx_lt128:
	CMPQ CX, $32
	JB   avx_lt32

avx_loop32:
	VPXOR   (SI), Y0, Y1
	VMOVDQU Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JAE     avx_loop32

avx_lt32:
	TESTQ CX, CX
	JZ    avx_edges
	VPXOR   (SI), X0, X1
	VMOVDQU X1, (DI)

avx_edges:
	TESTQ   R8, R8
	JZ      avx_done
	VMOVDQU Y5, (R8)
	VMOVDQU Y6, (R9)

avx_done:
	VZEROUPPER
	RET

// func xorSSE2(dst, src *byte, n int, k uint32)
TEXT ·xorSSE2(SB), NOSPLIT, $0-28
	MOVQ   dst+0(FP), DI
	MOVQ   src+8(FP), SI
	MOVQ   n+16(FP), CX
	MOVL   k+24(FP), AX
	MOVQ   AX, X0
	PSHUFD $0, X0, X0
	CMPQ   CX, $64
	JB     sse_lt64

	PCALIGN $16
sse_loop64:
	MOVOU (SI), X1
	MOVOU 16(SI), X2
	MOVOU 32(SI), X3
	MOVOU 48(SI), X4
	PXOR  X0, X1
	PXOR  X0, X2
	PXOR  X0, X3
	PXOR  X0, X4
	MOVOU X1, (DI)
	MOVOU X2, 16(DI)
	MOVOU X3, 32(DI)
	MOVOU X4, 48(DI)
	ADDQ  $64, SI
	ADDQ  $64, DI
	SUBQ  $64, CX
	CMPQ  CX, $64
	JAE   sse_loop64

sse_lt64:
	TESTQ CX, CX
	JZ    sse_done

sse_loop16:
	MOVOU (SI), X1
	PXOR  X0, X1
	MOVOU X1, (DI)
	ADDQ  $16, SI
	ADDQ  $16, DI
	SUBQ  $16, CX
	JNZ   sse_loop16

sse_done:
	RET
