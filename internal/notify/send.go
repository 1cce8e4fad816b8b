package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/nicholas-fedor/shoutrrr/pkg/router"
)

// send delivers a target's notices in order; each one that fails is a warning.
func (n *Notifier) send(ctx context.Context, t Target, notices []Notice) {
	if t.Service == ServiceWebhook {
		for _, nt := range notices {
			if err := n.webhook(ctx, t.URL, nt); err != nil {
				n.warn(fmt.Sprintf("notify %s: %v", t.Display, err))
			}
		}
		return
	}
	// A router of our own per target: shoutrrr's package-level one is shared state.
	r, err := router.New(nil, t.URL)
	if err != nil {
		n.warn(fmt.Sprintf("notify %s: %v", t.Display, err))
		return
	}
	r.Timeout = n.opts.Timeout
	for _, nt := range notices {
		if err := errors.Join(r.Send(nt.Text(), nil)...); err != nil {
			n.warn(fmt.Sprintf("notify %s: %v", t.Display, err))
		}
	}
}

// webhook POSTs one notice as JSON.
func (n *Notifier) webhook(ctx context.Context, url string, nt Notice) error {
	body, err := json.Marshal(nt)
	if err != nil {
		return fmt.Errorf("encoding the notice: %w", err)
	}
	return n.post(ctx, url, "application/json", body)
}

// ping sends one healthcheck ping, with the run's summary as its body (healthchecks.io
// keeps it with the ping).
func (n *Notifier) ping(ctx context.Context, kind string, p *Ping, body string) {
	if err := n.post(ctx, p.URL, "text/plain; charset=utf-8", []byte(body)); err != nil {
		n.warn(fmt.Sprintf("healthcheck %s ping %s: %v", kind, p.Display, err))
	}
}

// post sends body to url within the send timeout, even when ctx is cancelled; a status
// other than 2xx is an error.
func (n *Notifier) post(ctx context.Context, url, contentType string, body []byte) error {
	ctx, cancel := n.sendContext(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "docker-backup")
	resp, err := n.opts.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode/100 != 2 {
		if s := strings.TrimSpace(string(msg)); s != "" {
			return fmt.Errorf("%s: %s", resp.Status, strings.Join(strings.Fields(s), " "))
		}
		return fmt.Errorf("%s", resp.Status)
	}
	return nil
}
