module github.com/netkit/websocket/bench

go 1.26.0

require (
	github.com/gobwas/ws v1.4.0
	github.com/netkit/websocket v0.0.0
	go.uber.org/goleak v1.3.0
)

require (
	github.com/gobwas/httphead v0.1.0 // indirect
	github.com/gobwas/pool v0.2.1 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

replace github.com/netkit/websocket => ../
