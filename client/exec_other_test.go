//go:build !unix

package client

import "errors"

func execSelf(exe string, args, env []string) error {
	return errors.New("re-executing the test binary is not supported here")
}
