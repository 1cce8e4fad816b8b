package composeext

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/nicholas-fedor/shoutrrr/pkg/router"
)

// NotifyEvent is an outcome a notify target is told about.
type NotifyEvent string

// The outcomes of x-backup.notify's `on`.
const (
	NotifyFailure NotifyEvent = "failure"
	NotifySuccess NotifyEvent = "success"
	NotifyWarning NotifyEvent = "warning"
)

// notifyEvents are the values `on` may hold, in the order messages list them.
var notifyEvents = []NotifyEvent{NotifyFailure, NotifySuccess, NotifyWarning}

// notifyKeys are the keys of a notify target's mapping form.
var notifyKeys = []string{"url", "on"}

// healthcheckKeys are the keys of x-backup.healthcheck's mapping form.
var healthcheckKeys = []string{"start", "success", "failure"}

// ServiceWebhook is NotifyTarget.Service for an http or https URL: a generic webhook
// that gets the outcome as JSON.
const ServiceWebhook = "webhook"

// NotifyTarget is one entry of x-backup.notify: where to send a notice, and for which
// outcomes.
type NotifyTarget struct {
	// URL is the target as written (interpolated): a secret, never marshalled.
	URL string `json:"-"`
	// Display is URL masked, safe to print: scheme and host of a webhook, else the
	// notification service's scheme alone (slack://***).
	Display string `json:"url"`
	// Service is ServiceWebhook for http and https, else shoutrrr's service (slack, ntfy…).
	Service string `json:"service"`
	// On lists the outcomes notified, by default failure alone.
	On []NotifyEvent `json:"on"`
}

// Notifies reports whether the target wants notices of outcome e.
func (t NotifyTarget) Notifies(e NotifyEvent) bool { return slices.Contains(t.On, e) }

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

// alerts reads x-backup.notify and x-backup.healthcheck from the top-level mapping m.
func (d *decoder) alerts(base string, m map[string]any) ([]NotifyTarget, *Healthcheck) {
	var targets []NotifyTarget
	var hc *Healthcheck
	if v, ok := m["notify"]; ok {
		targets = d.notifications(base+".notify", v)
	}
	if v, ok := m["healthcheck"]; ok {
		hc = d.healthcheck(base+".healthcheck", v)
	}
	return targets, hc
}

// notifications reads x-backup.notify: a list of URLs or {url, on} mappings.
func (d *decoder) notifications(path string, v any) []NotifyTarget {
	list, ok := v.([]any)
	if !ok {
		d.probs.addf(path, "got %s, want a list of URLs or {url, on} mappings", describe(v))
		return nil
	}
	var out []NotifyTarget
	for i, e := range list {
		if t, ok := d.notifyTarget(fmt.Sprintf("%s[%d]", path, i), e); ok {
			out = append(out, t)
		}
	}
	return out
}

// notifyTarget reads one entry of x-backup.notify.
func (d *decoder) notifyTarget(path string, v any) (NotifyTarget, bool) {
	t := NotifyTarget{On: []NotifyEvent{NotifyFailure}}
	urlPath := path
	raw := v
	if m, isMap := v.(map[string]any); isMap {
		if _, ok := d.fields(path, m, notifyKeys, "a mapping"); !ok {
			return t, false
		}
		urlPath = path + ".url"
		var found bool
		if raw, found = m["url"]; !found {
			d.probs.addf(urlPath, "required (want the notification's URL)")
			return t, false
		}
		if on, found := m["on"]; found {
			t.On = d.notifyOn(path+".on", on)
		}
	}
	s, ok := raw.(string)
	if !ok {
		d.probs.addf(urlPath, "got %s, want a URL (https://… for a webhook, or a shoutrrr URL such as slack://…)", describe(raw))
		return t, false
	}
	if strings.TrimSpace(s) == "" {
		d.probs.addf(urlPath, "empty (want a URL; is its variable set?)")
		return t, false
	}
	display, service, err := checkNotifyURL(s)
	if err != nil {
		d.probs.addf(urlPath, "%v", err)
		return t, false
	}
	t.URL, t.Display, t.Service = s, display, service
	return t, t.On != nil
}

// notifyOn reads a target's `on`: one outcome or a list of them.
func (d *decoder) notifyOn(path string, v any) []NotifyEvent {
	names, ok := d.strList(path, v)
	if !ok {
		return nil
	}
	want := make([]string, len(notifyEvents))
	for i, e := range notifyEvents {
		want[i] = string(e)
	}
	var bad []string
	var out []NotifyEvent
	for _, n := range names {
		e := NotifyEvent(strings.TrimSpace(n))
		if !slices.Contains(notifyEvents, e) {
			bad = append(bad, fmt.Sprintf("%q", n))
			continue
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	switch {
	case len(bad) > 0:
		d.probs.addf(path, "unknown %s (want %s)", strings.Join(bad, ", "), strings.Join(want, ", "))
		return nil
	case len(out) == 0:
		d.probs.addf(path, "empty (want some of %s)", strings.Join(want, ", "))
		return nil
	}
	return out
}

// checkNotifyURL checks a notify URL without sending anything and returns it masked
// and the service it goes to.
func checkNotifyURL(s string) (display, service string, err error) {
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
	// A router of our own: shoutrrr's package-level one is shared state.
	r, err := router.New(nil)
	if err != nil {
		return "", "", fmt.Errorf("notification services: %w", err)
	}
	name, _, _ := r.ExtractServiceName(s)
	name = strings.ToLower(name)
	display = scheme + "://***"
	if _, err := r.NewService(name); err != nil || name == "" {
		known := r.ListServices()
		sort.Strings(known)
		return "", "", fmt.Errorf("unknown notification service %q (want http, https or one of %s)", name, strings.Join(known, ", "))
	}
	// matrix logs in to its server when initialized: its URL's form is checked when sent.
	if name == "matrix" {
		return display, name, nil
	}
	// Initialize checks the URL's form; Locate alone would hide why it is wrong.
	svc, _ := r.NewService(name)
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

// healthcheck reads x-backup.healthcheck: a base URL in the healthchecks.io convention
// (base/start, base, base/fail) or a {start, success, failure} mapping.
func (d *decoder) healthcheck(path string, v any) *Healthcheck {
	ping := func(path string, v any) *Ping {
		s, ok := d.str(path, v)
		if !ok {
			return nil
		}
		if strings.TrimSpace(s) == "" {
			d.probs.addf(path, "empty (want an http or https URL; is its variable set?)")
			return nil
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			d.probs.addf(path, "not an http or https URL")
			return nil
		}
		return &Ping{URL: s, Display: maskHTTPURL(u)}
	}
	if s, ok := v.(string); ok {
		hc := &Healthcheck{Success: ping(path, s)}
		if hc.Success == nil {
			return nil
		}
		// The suffixes go at the end of the path, before a query (?create=1).
		u, _ := url.Parse(s)
		base := strings.TrimRight(u.Path, "/")
		for dst, suffix := range map[**Ping]string{&hc.Start: "/start", &hc.Failure: "/fail"} {
			v := *u
			v.Path, v.RawPath = base+suffix, ""
			*dst = ping(path, v.String())
		}
		return hc
	}
	m, ok := d.fields(path, v, healthcheckKeys, "a URL or a mapping of start, success, failure URLs")
	if !ok {
		return nil
	}
	hc := &Healthcheck{}
	for key, dst := range map[string]**Ping{"start": &hc.Start, "success": &hc.Success, "failure": &hc.Failure} {
		if v, ok := m[key]; ok {
			*dst = ping(path+"."+key, v)
		}
	}
	if *hc == (Healthcheck{}) {
		return nil
	}
	return hc
}

// notifySecrets are the notify and healthcheck URLs and their token-like parts, so that
// Mask hides them in what a library's errors quote (an API URL built from the token).
func (p *Plan) notifySecrets() []string {
	var out []string
	for _, t := range p.Notify {
		out = append(out, urlSecrets(t.URL)...)
	}
	if hc := p.Healthcheck; hc != nil {
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

// addNotifySecrets adds the notify and healthcheck secrets to p.Secrets, longest first.
func (p *Plan) addNotifySecrets() {
	for _, s := range p.notifySecrets() {
		if !slices.Contains(p.Secrets, s) {
			p.Secrets = append(p.Secrets, s)
		}
	}
	sort.SliceStable(p.Secrets, func(i, j int) bool { return len(p.Secrets[i]) > len(p.Secrets[j]) })
}
