package swap

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var errInjected = errors.New("injected failure")

// failAt gives a step hook that fails the steps numbered in at (from 1), and counts.
func failAt(count *int, at ...int) func(string) error {
	return func(op string) error {
		*count++
		for _, n := range at {
			if *count == n {
				return fmt.Errorf("%s: %w", op, errInjected)
			}
		}
		return nil
	}
}

// eachStep runs try with n = 1, 2, … until it says the swap went through without
// reaching step n.
func eachStep(t *testing.T, try func(t *testing.T, n int) bool) {
	for n := 1; ; n++ {
		done := false
		t.Run(fmt.Sprint("step ", n), func(t *testing.T) { done = try(t, n) })
		if done || t.Failed() {
			return
		}
		if n > 10_000 {
			t.Fatal("the swap never ends")
		}
	}
}

// modes are the swaps the failure tests go through: renames, and copies as between
// filesystems.
var modes = []struct {
	name   string
	rename func(string, string) error
}{{"rename", os.Rename}, {"copy", exdev}}

func TestSwapFailsAtEveryStep(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			eachStep(t, func(t *testing.T, n int) bool {
				f := newFixture(t, oldTree(), newTree(), testKeep)
				count := 0
				s := newSwapper()
				s.rename, s.hook = m.rename, failAt(&count, n)
				err := s.swap(f.plan)
				if err == nil {
					f.live(t, true)
					return true
				}
				if !errors.Is(err, errInjected) || !errors.Is(err, ErrUnchanged) && !errors.Is(err, ErrRolledBack) {
					t.Fatalf("got %v, want the injected failure with ErrUnchanged or ErrRolledBack", err)
				}
				f.live(t, false)
				return false
			})
		})
	}
}

func TestSwapCrashesAtEveryStep(t *testing.T) {
	for _, m := range append(modes, struct {
		name   string
		rename func(string, string) error
	}{"journal in staging", os.Rename}) {
		t.Run(m.name, func(t *testing.T) {
			eachStep(t, func(t *testing.T, n int) bool {
				f := newFixture(t, oldTree(), newTree(), testKeep)
				if m.name == "journal in staging" {
					f.plan.Journal = filepath.Join(f.plan.Staging, ".journal")
					f.plan.Skip = []string{".journal"}
				}
				count := 0
				s := newSwapper()
				s.rename, s.hook, s.crash = m.rename, failAt(&count, n), true
				err := s.swap(f.plan)
				if err == nil {
					f.live(t, true)
					return true
				}
				if !errors.Is(err, errCrash) {
					t.Fatalf("got %v, want a simulated crash", err)
				}
				r := newSwapper()
				r.rename = m.rename
				err = r.resume(f.plan.Journal)
				switch {
				case n == 1 && errors.Is(err, os.ErrNotExist): // died writing the first journal
					f.live(t, false)
				case err != nil:
					t.Fatalf("resume: %v", err)
				default:
					f.live(t, true)
				}
				return false
			})
		})
	}
}

// TestSwapRevertFails fails a step, then one of putting the previous content back: the
// error says ErrMixed, and Resume ends with the old or the new tree.
func TestSwapRevertFails(t *testing.T) {
	for _, m := range modes {
		for _, later := range []int{1, 4} {
			t.Run(fmt.Sprint(m.name, " then ", later, " later"), func(t *testing.T) {
				eachStep(t, func(t *testing.T, n int) bool {
					f := newFixture(t, oldTree(), newTree(), testKeep)
					count := 0
					s := newSwapper()
					s.rename, s.hook = m.rename, failAt(&count, n, n+later)
					err := s.swap(f.plan)
					switch {
					case err == nil:
						f.live(t, true)
						return true
					case !errors.Is(err, ErrMixed):
						f.live(t, false) // the revert was through before the second failure
						return false
					}
					r := newSwapper()
					r.rename = m.rename
					err = r.resume(f.plan.Journal)
					switch {
					case err == nil:
						f.live(t, true)
					case errors.Is(err, ErrRolledBack):
						f.live(t, false)
					default:
						t.Fatalf("resume: %v", err)
					}
					return false
				})
			})
		}
	}
}
