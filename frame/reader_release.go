//go:build !wsdebug

package frame

// debugPoison is false in normal builds; see reader_wsdebug.go.
const debugPoison = false

// handout records the payload slice a Reader handed out, in wsdebug builds only; here it is
// empty and its methods do nothing.
type handout struct{}

func (*handout) set([]byte) {}
func (*handout) poison()    {}
