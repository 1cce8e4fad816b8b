package notify

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/nicholas-fedor/shoutrrr/pkg/router"
)

// The configuration of x-backup.notify and x-backup.healthcheck: the JSON Schema checks
// their form (composeext/schema); what needs a URL parser or shoutrrr is checked here,
// without sending anything.

// Event is an outcome a notify target is told about.
type Event string

// The outcomes of x-backup.notify's `on`.
const (
	Failure Event = "failure"
	Success Event = "success"
	Warning Event = "warning"
)

// ServiceWebhook is Target.Service for an http or https URL: a generic webhook that gets
// the outcome as JSON.
const ServiceWebhook = "webhook"

// Config is what a Notifier sends: x-backup.notify and x-backup.healthcheck.
type Config struct {
	Targets     []Target
	Healthcheck *Healthcheck
}

// Target is one entry of x-backup.notify: where to send a notice, and for which
// outcomes.
type Target struct {
	// URL is the target as written (interpolated): a secret, never marshalled.
	URL string `json:"-"`
	// Display is URL masked, safe to print: scheme and host of a webhook, else the
	// notification service's scheme alone (slack://***).
	Display string `json:"url"`
	// Service is ServiceWebhook for http and https, else shoutrrr's service (slack, ntfy…).
	Service string `json:"service"`
	// On lists the outcomes notified, by default failure alone.
	On []Event `json:"on"`
}

// Notifies reports whether the target wants notices of outcome e.
func (t Target) Notifies(e Event) bool { return slices.Contains(t.On, e) }

// Healthcheck is x-backup.healthcheck, dead-man's-switch pings: Start before a run,
// Success or Failure after it. Each is optional.
type Healthcheck struct {
	Start   *Ping `json:"start,omitempty"`
	Success *Ping `json:"success,omitempty"`
	Failure *Ping `json:"failure,omitempty"`
}

// Ping is one healthcheck URL.
type Ping struct {
	// URL is the ping's address: a secret (a check's UUID is its only credential).
	URL string `json:"-"`
	// Display is URL masked: scheme and host.
	Display string `json:"url"`
}

// NewTarget checks a notify URL and the outcomes it wants (the schema has checked
// their form; none means failure alone).
func NewTarget(rawURL string, on []string) (Target, error) {
	t := Target{On: []Event{Failure}}
	if len(on) > 0 {
		t.On = nil
		for _, e := range on {
			if ev := Event(strings.TrimSpace(e)); !slices.Contains(t.On, ev) {
				t.On = append(t.On, ev)
			}
		}
	}
	if strings.TrimSpace(rawURL) == "" {
		return t, errors.New("empty (want a URL; is its variable set?)")
	}
	display, service, err := checkURL(rawURL)
	t.URL, t.Display, t.Service = rawURL, display, service
	return t, err
}

// checkURL checks a notify URL without sending anything and returns it masked and the
// service it goes to.
func checkURL(s string) (display, service string, err error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return "", "", fmt.Errorf("not a URL with a scheme (want https://… for a webhook, or a shoutrrr URL such as slack://…)")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme == "http" || scheme == "https" {
		if u.Host == "" {
			return "", "", fmt.Errorf("%s URL without a host", scheme)
		}
		return maskHTTPURL(u), ServiceWebhook, nil
	}
	return checkShoutrrrURL(u, s)
}

// checkShoutrrrURL checks the URL of a notification service of shoutrrr's.
func checkShoutrrrURL(u *url.URL, s string) (display, service string, err error) {
	// A router of our own: shoutrrr's package-level one is shared state.
	r, err := router.New(nil)
	if err != nil {
		return "", "", fmt.Errorf("notification services: %w", err)
	}
	name, _, _ := r.ExtractServiceName(s)
	name = strings.ToLower(name)
	display = strings.ToLower(u.Scheme) + "://***"
	svc, err := r.NewService(name)
	if err != nil || name == "" {
		known := r.ListServices()
		sort.Strings(known)
		return "", "", fmt.Errorf("unknown notification service %q (want http, https or one of %s)", name, strings.Join(known, ", "))
	}
	// matrix logs in to its server when initialized: its URL's form is checked when sent.
	if name == "matrix" {
		return display, name, nil
	}
	// Initialize checks the URL's form; Locate alone would hide why it is wrong.
	if strings.EqualFold(u.Scheme, name) {
		err = svc.Initialize(u, nil)
	} else {
		_, err = r.Locate(s) // a custom URL (generic+https://…) is converted first
	}
	if err != nil {
		return "", "", fmt.Errorf("%s is not a valid %s URL: %s (see shoutrrr's documentation of the service)", display, name, maskURLIn(err.Error(), s))
	}
	return display, name, nil
}

// maskHTTPURL shows an http URL's scheme and host only: the path of a webhook is
// usually its credential.
func maskHTTPURL(u *url.URL) string {
	out := strings.ToLower(u.Scheme) + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		out += "/***"
	}
	return out
}

// NewPing checks one healthcheck URL.
func NewPing(s string) (*Ping, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("empty (want an http or https URL; is its variable set?)")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("not an http or https URL")
	}
	return &Ping{URL: s, Display: maskHTTPURL(u)}, nil
}

// BaseHealthcheck is x-backup.healthcheck written as one base URL, in the
// healthchecks.io convention: base/start, base, base/fail.
func BaseHealthcheck(base string) (*Healthcheck, error) {
	success, err := NewPing(base)
	if err != nil {
		return nil, err
	}
	hc := &Healthcheck{Success: success}
	for dst, suffix := range map[**Ping]string{&hc.Start: "/start", &hc.Failure: "/fail"} {
		s, err := withSuffix(base, suffix)
		if err == nil {
			*dst, err = NewPing(s)
		}
		if err != nil {
			return nil, err
		}
	}
	return hc, nil
}

// Secrets are the notify and healthcheck URLs and their token-like parts, so that a
// masker hides them in what a library's errors quote (an API URL built from the token).
func (c Config) Secrets() []string {
	var out []string
	for _, t := range c.Targets {
		out = append(out, urlSecrets(t.URL)...)
	}
	if hc := c.Healthcheck; hc != nil {
		for _, pg := range []*Ping{hc.Start, hc.Success, hc.Failure} {
			if pg != nil {
				out = append(out, urlSecrets(pg.URL)...)
			}
		}
	}
	return out
}

// urlSecrets are a URL and the parts of it that look like credentials: user and
// password, token-like path segments and query values.
func urlSecrets(s string) []string {
	u, err := url.Parse(s)
	if err != nil {
		return []string{s}
	}
	var parts []string
	if u.User != nil {
		pw, _ := u.User.Password()
		parts = append(parts, u.User.Username(), pw)
	}
	parts = append(parts, strings.Split(u.Path, "/")...)
	for _, vals := range u.Query() {
		parts = append(parts, vals...)
	}
	return append([]string{s}, slices.DeleteFunc(parts, func(s string) bool { return !tokenLike(s) })...)
}

// maskURLIn hides the URL s and its credentials in msg.
func maskURLIn(msg, s string) string {
	secrets := urlSecrets(s)
	sort.SliceStable(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	for _, sec := range secrets {
		msg = strings.ReplaceAll(msg, sec, "***")
	}
	return msg
}

// tokenLike tells a credential from an ordinary word (services, webhook, yes): long, or
// with a digit.
func tokenLike(s string) bool {
	return len(s) >= 20 || (len(s) >= 8 && strings.ContainsAny(s, "0123456789"))
}
