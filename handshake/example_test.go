package handshake_test

import (
	"fmt"

	"github.com/netkit/websocket/handshake"
)

// The accept key for the sample nonce of RFC 6455 §1.3.
func ExampleAcceptKey() {
	fmt.Println(handshake.AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="))
	// Output: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
}

// User headers that could inject a header line, or that replace one the handshake owns, are
// refused before anything is written.
func ExampleRequest_Append() {
	req := &handshake.Request{Host: "example.com", Path: "/chat"}
	req.Header = map[string][]string{"X-Token": {"a\r\nInjected: yes"}}
	_, err := req.Append(nil, handshake.NewKey())
	fmt.Println(err != nil)
	// Output: true
}
