package report

import (
	"errors"
	"testing"
)

func TestOverall(t *testing.T) {
	for _, c := range []struct {
		err      error
		services []Service
		want     Status
	}{
		{nil, nil, StatusOK},
		{nil, []Service{{Status: StatusOK}, {Status: StatusSkipped}}, StatusOK},
		{nil, []Service{{Status: StatusWarning}, {Status: StatusOK}}, StatusWarning},
		{nil, []Service{{Status: StatusWarning}, {Status: StatusFailed}}, StatusFailed},
		{errors.New("no repository"), nil, StatusFailed},
	} {
		if got := Overall(c.err, c.services); got != c.want {
			t.Errorf("Overall(%v, %v) = %s, want %s", c.err, c.services, got, c.want)
		}
	}
}
