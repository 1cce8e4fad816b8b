package failure

import (
	"errors"
	"fmt"
	"testing"
)

func TestNewf(t *testing.T) {
	errKind := errors.New("kind")
	errOther := errors.New("other")
	err := fmt.Errorf("context: %w", Newf(errKind, "service %s has no snapshot", "db"))
	if !errors.Is(err, errKind) || errors.Is(err, errOther) {
		t.Errorf("errors.Is: kind %v, other %v", errors.Is(err, errKind), errors.Is(err, errOther))
	}
	if got, want := err.Error(), "context: service db has no snapshot"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind != errKind {
		t.Errorf("errors.As: %v", fe)
	}
}
