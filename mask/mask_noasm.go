//go:build purego || !amd64

package mask

func maskBytes(b []byte, key [4]byte, pos int) int {
	return maskGeneric(b, key, pos)
}

func copyBytes(dst, src []byte, key [4]byte, pos int) int {
	return copyGeneric(dst, src, key, pos)
}
