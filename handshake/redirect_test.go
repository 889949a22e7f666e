package handshake

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestRedirectURLResolvesMapsAndRefuses(t *testing.T) {
	tests := []struct {
		base, loc string
		status    int
		want      string // "" when an error is expected
		err       error
	}{
		{"ws://a.example/x/y", "/z?q=1", 302, "ws://a.example/z?q=1", nil},
		{"ws://a.example/x/y", "z", 301, "ws://a.example/x/z", nil},
		{"ws://a.example:8080/x", "//b.example/p", 307, "ws://b.example/p", nil},
		{"ws://a.example/", "http://b.example:81/p", 308, "ws://b.example:81/p", nil},
		{"ws://a.example/", "https://b.example/p", 303, "wss://b.example/p", nil},
		{"wss://a.example/", "wss://b.example/p", 302, "wss://b.example/p", nil},
		{"wss://a.example/", "/p", 302, "wss://a.example/p", nil},
		{"ws://a.example/", "ws://user:secret@b.example/p#frag", 302, "ws://b.example/p", nil},
		{"ws://user:secret@a.example/", "/p", 302, "ws://a.example/p", nil},
		{"wss://a.example/", "ws://b.example/p", 302, "", ErrRedirectDowngrade},
		{"wss://a.example/", "http://a.example/p", 301, "", ErrRedirectDowngrade},
		{"ws://a.example/", "ftp://b.example/p", 302, "", ErrBadRedirect},
		{"ws://a.example/", "", 302, "", ErrBadRedirect},
		{"ws://a.example/", "http://user:sec%zzret@b/", 302, "", ErrBadRedirect},
		{"ws://a.example/", "/p", 300, "", ErrBadRedirect},
		{"ws://a.example/", "/p", 304, "", ErrBadRedirect},
		{"ws://a.example/", "mailto:x@y", 302, "", ErrBadRedirect},
	}
	for _, tt := range tests {
		base, err := url.Parse(tt.base)
		if err != nil {
			t.Fatal(err)
		}
		got, err := RedirectURL(base, &StatusError{StatusCode: tt.status, Location: tt.loc})
		if tt.err != nil {
			if !errors.Is(err, tt.err) || got != nil {
				t.Errorf("%s + %d %q: %v, %v; want %v", tt.base, tt.status, tt.loc, got, err, tt.err)
			}
			if err != nil && strings.Contains(err.Error(), "sec") {
				t.Errorf("error shows user information: %v", err)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("%s + %d %q = %v, %v; want %s", tt.base, tt.status, tt.loc, got, err, tt.want)
		}
	}
}

func TestIsRedirectOnlyTheFollowableStatuses(t *testing.T) {
	for s := 100; s < 600; s++ {
		want := s == 301 || s == 302 || s == 303 || s == 307 || s == 308
		if IsRedirect(s) != want {
			t.Errorf("IsRedirect(%d) = %v", s, !want)
		}
	}
}

func TestSameOriginComparesSchemeHostAndPort(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"ws://a.example/x", "ws://A.EXAMPLE:80/y?q", true},
		{"wss://a.example/", "wss://a.example:443/", true},
		{"ws://a.example/", "wss://a.example/", false},
		{"ws://a.example/", "ws://a.example:81/", false},
		{"ws://a.example/", "ws://b.example/", false},
		{"ws://u:p@a.example/", "ws://a.example/", true},
		{"ws://[::1]:80/", "ws://[::1]/", true},
	}
	for _, tt := range tests {
		a, _ := url.Parse(tt.a)
		b, _ := url.Parse(tt.b)
		if SameOrigin(a, b) != tt.same {
			t.Errorf("SameOrigin(%s, %s) = %v", tt.a, tt.b, !tt.same)
		}
	}
}
