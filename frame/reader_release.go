//go:build !wsdebug

package frame

// debugPoison is false in normal builds; see reader_wsdebug.go.
const debugPoison = false
