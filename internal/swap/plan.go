package swap

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/docker-backup/docker-backup/internal/atomicfile"
)

// Plan is one swap: what replaces what, where the previous content goes, what stays.
type Plan struct {
	// Live is the folder whose content is replaced; the folder itself stays (same inode).
	Live string `json:"live"`
	// Staging holds the new content; its entries are moved out of it.
	Staging string `json:"staging"`
	// Rollback is an empty folder that receives the previous content of Live.
	Rollback string `json:"rollback"`
	// Journal is the file that records the swap's progress (see the package doc).
	Journal string `json:"journal"`
	// Keep lists paths relative to Live ("backups", "sub/keep.txt") that stay in Live
	// untouched. Staged copies of them are dropped.
	Keep []string `json:"keep,omitempty"`
	// Skip lists top-level names in Staging that are not moved into Live (our marker
	// file, the journal when it lives in Staging).
	Skip []string `json:"skip,omitempty"`
	// Marker, if set, is a top-level file in Staging that must hold exactly Nonce, or the
	// swap is refused before any change with ErrNotStaged: a staging volume re-created
	// empty since it was restored must not wipe the live content. Marker is skipped.
	Marker string `json:"marker,omitempty"`
	// Nonce is the content Marker must have.
	Nonce string `json:"nonce,omitempty"`
	// KeepJournal leaves the journal in place at the end, with phase "done" (Live holds
	// the new tree) or "reverted" (Live holds the old tree, put back after a failure),
	// instead of removing it. A missing journal then always means the swap never began:
	// a caller that swaps several folders as one can tell every folder's state.
	KeepJournal bool `json:"keep_journal,omitempty"`
}

// Errors a swap's failure matches with errors.Is, saying what state Live was left in.
var (
	// ErrUnchanged means Live holds its previous content: nothing was replaced, or what
	// had been moved out was moved back.
	ErrUnchanged = errors.New("the live content is unchanged")
	// ErrRolledBack means Live was partly replaced and its previous content was put back.
	ErrRolledBack = errors.New("the live content was partly replaced and then put back as it was")
	// ErrMixed means putting the previous content back failed: Live may be a mix of old
	// and new. Error.Paths says where the pieces are; Resume may finish putting it back.
	ErrMixed = errors.New("the live content may be a mix of old and new")
	// ErrNotStaged means Staging lacks the Marker holding the Nonce (it comes with
	// ErrUnchanged).
	ErrNotStaged = errors.New("the staging folder is not the one restored and verified")
)

// Error is a failed swap: the state Live is in (ErrUnchanged, ErrRolledBack or
// ErrMixed), the cause, and for ErrMixed the paths concerned.
type Error struct {
	// State is ErrUnchanged, ErrRolledBack or ErrMixed.
	State error
	// Paths names, for ErrMixed, the folders holding pieces of the content.
	Paths []string
	// Err is the failure that stopped the swap.
	Err error
}

// Error says what failed and what state Live is in.
func (e *Error) Error() string {
	msg := fmt.Sprint(e.State)
	if e.Err != nil {
		msg = e.Err.Error() + ": " + msg
	}
	if len(e.Paths) > 0 {
		msg += " (see " + strings.Join(e.Paths, ", ") + ")"
	}
	return msg
}

// Unwrap gives both the state and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error { return []error{e.State, e.Err} }

// keeps splits Plan.Keep into top-level names and nested paths, cleaned, with the paths
// below another kept path dropped (the outer one keeps them).
func (p Plan) keeps() (top map[string]bool, nested []string, err error) {
	var all []string
	for _, k := range p.Keep {
		c := filepath.Clean(k)
		if k == "" || filepath.IsAbs(c) || c == "." || c == ".." || strings.HasPrefix(c, "../") {
			return nil, nil, fmt.Errorf("kept path %q: not a path inside the live folder", k)
		}
		all = append(all, c)
	}
	sort.Strings(all)
	top = map[string]bool{}
	for i, c := range all {
		if i > 0 && c == all[i-1] || coveredBy(c, all) {
			continue
		}
		if strings.Contains(c, "/") {
			nested = append(nested, c)
		} else {
			top[c] = true
		}
	}
	return top, nested, nil
}

// skips is the set of top-level names of Staging that are not moved into Live.
func (p Plan) skips() map[string]bool {
	s := map[string]bool{tmpName: true}
	for _, n := range p.Skip {
		s[n] = true
	}
	if p.Marker != "" {
		s[p.Marker] = true
	}
	return s
}

// journalTemp reports whether a top-level name of Staging is the journal's next
// version before its rename (atomicfile's temporary file, or an earlier version's
// journal+".tmp"), when the journal is a skipped entry of Staging.
func (p Plan) journalTemp(name string) bool {
	j := filepath.Clean(p.Journal)
	if filepath.Dir(j) != filepath.Clean(p.Staging) || !p.skips()[filepath.Base(j)] {
		return false
	}
	base := filepath.Base(j)
	return name == base+".tmp" || atomicfile.IsTemp(name, base)
}

// check refuses a plan whose folders overlap or whose journal could be moved.
func (p Plan) check() error {
	for _, d := range []struct{ name, path string }{{"live", p.Live}, {"staging", p.Staging}, {"rollback", p.Rollback}, {"journal", p.Journal}} {
		if !filepath.IsAbs(d.path) {
			return fmt.Errorf("%s path %q: not absolute", d.name, d.path)
		}
	}
	live, stg, rb, j := filepath.Clean(p.Live), filepath.Clean(p.Staging), filepath.Clean(p.Rollback), filepath.Clean(p.Journal)
	for _, pair := range [][2]string{{live, stg}, {live, rb}, {stg, rb}} {
		if pair[0] == pair[1] || under(pair[0], pair[1]) || under(pair[1], pair[0]) {
			return fmt.Errorf("folders %s and %s overlap", pair[0], pair[1])
		}
	}
	if under(live, j) || under(rb, j) {
		return fmt.Errorf("journal %s: inside the live or rollback folder", j)
	}
	if under(stg, j) && !p.skips()[strings.SplitN(j[len(stg)+1:], "/", 2)[0]] {
		return fmt.Errorf("journal %s: inside the staging folder but not in Skip", j)
	}
	_, _, err := p.keeps()
	return err
}

// coveredBy tells whether a kept path is inside another one of all.
func coveredBy(c string, all []string) bool {
	for _, k := range all {
		if under(k, c) {
			return true
		}
	}
	return false
}

// under tells whether path is strictly inside dir (both clean).
func under(dir, path string) bool {
	return strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}
