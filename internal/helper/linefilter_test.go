package helper

import (
	"bytes"
	"testing"
)

func TestLineFilter(t *testing.T) {
	var progress, rest bytes.Buffer
	live := &lineFilter{w: &progress, keep: isProgress}
	final := &lineFilter{w: &rest, keep: func(l []byte) bool { return !isProgress(l) }}
	out := `{"message_type":"status","percent_done":0.5}` + "\n" + `{"message_type":"summary","snapshot_id":"ab"}` + "\n" + `tail`
	// Written in pieces that cut lines, as a log stream may.
	for _, w := range []*lineFilter{live, final} {
		for i := 0; i < len(out); i += 7 {
			_, _ = w.Write([]byte(out[i:min(i+7, len(out))]))
		}
		w.flush()
	}
	if got := progress.String(); got != `{"message_type":"status","percent_done":0.5}`+"\n" {
		t.Errorf("progress %q", got)
	}
	if got := rest.String(); got != `{"message_type":"summary","snapshot_id":"ab"}`+"\n"+"tail" {
		t.Errorf("rest %q", got)
	}
}
