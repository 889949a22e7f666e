package proxy

import (
	"net/url"
	"testing"
)

func TestURLFromEnvironmentHonoursNoProxyAndAllocatesNothingWhenUnset(t *testing.T) {
	for _, k := range []string{"http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "no_proxy", "REQUEST_METHOD"} {
		t.Setenv(k, "")
	}
	target, _ := url.Parse("ws://svc.example:8080/x")
	tls, _ := url.Parse("wss://svc.example/x")

	t.Setenv("HTTP_PROXY", "")
	t.Setenv("NO_PROXY", "")
	if u, err := URLFromEnvironment(target); u != nil || err != nil {
		t.Fatalf("no proxy set: %v, %v", u, err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = URLFromEnvironment(target) }); n != 0 {
		t.Fatalf("%v allocations per call with no proxy set", n)
	}

	t.Setenv("HTTP_PROXY", "http://p.example:3128")
	if u, err := URLFromEnvironment(target); err != nil || u == nil || u.Host != "p.example:3128" {
		t.Fatalf("HTTP_PROXY: %v, %v", u, err)
	}
	if u, err := URLFromEnvironment(tls); u != nil || err != nil {
		t.Fatalf("wss with only HTTP_PROXY: %v, %v", u, err)
	}
	t.Setenv("NO_PROXY", ".example")
	if u, err := URLFromEnvironment(target); u != nil || err != nil {
		t.Fatalf("NO_PROXY: %v, %v", u, err)
	}
}
