package retention

import (
	"testing"

	"github.com/docker-backup/docker-backup/restic"
)

// TestKeep checks the conversion to restic's keep policy; nil keeps everything.
func TestKeep(t *testing.T) {
	var none *Policy
	if !none.Keep().Empty() {
		t.Errorf("a nil policy keeps %+v, want nothing set", none.Keep())
	}
	p := &Policy{KeepLast: 3, KeepDaily: 7, KeepWithin: "1m"}
	if got, want := p.Keep(), (restic.KeepPolicy{Last: 3, Daily: 7, Within: "1m"}); got != want {
		t.Errorf("Keep() = %+v, want %+v", got, want)
	}
}
