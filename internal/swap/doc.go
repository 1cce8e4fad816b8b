// Package swap replaces the content of a live directory with a staged one, the last step
// of a volume restore, so that the live content is never half old and half new, not even
// after the process is killed with SIGKILL. It runs inside the helper container ("the
// agent") with the live, staging and rollback folders mounted.
//
// # API
//
//	Swap(p Plan) error                          replace a folder's content
//	Resume(p Plan) error                        finish a swap whose process died
//	SwapFile(live, staged, rollback string) error  rewrite a bind-mounted file in place
//	CopyTree(src, dst string) error             faithful copy, used on EXDEV and alone
//
// Failures are *Error values; errors.Is tells ErrUnchanged, ErrRolledBack, ErrMixed (and
// ErrNotStaged) apart.
//
// # What Swap does
//
// After checks that need no change (folders exist and do not overlap, Rollback is empty,
// no journal is left, Staging holds Plan.Marker with Plan.Nonce, no kept path would land
// under something other than a folder), Swap writes the journal and runs three phases:
//
//  1. out: drop the staged copies of kept paths, then move every top-level entry of
//     Live but the kept ones into Rollback;
//  2. in: move every top-level entry of Staging but Plan.Skip (and Marker) into Live;
//  3. keep: move each nested kept path ("sub/keep.txt") from the old tree in Rollback to
//     the same place in the new tree, making the folders on its way that the new tree
//     lacks like the old ones; give those folders their staged times (moving changed
//     them) and give Live's root the staged root's mode, owner and times, as
//     `cp -a staging/. live/` would. The root keeps its inode (a bind mount of it stays
//     valid) but not its old attributes; its extended attributes are not touched.
//
// Then the journal is removed. Moves are rename(2): O(top-level entries), no data
// copied. Where a rename fails with EXDEV (the folders are on different mounts, e.g. a
// bind-mounted host folder), the phase copies each such entry with CopyTree under a
// temporary name in the destination folder and renames it into place, leaving every
// source whole; once all are copied it syncs the filesystems, journals that the sources
// are to be removed, and removes them. So the copies of one phase share one hard-link
// map (links between top-level entries stay links), and until the removal is journaled
// a failure or a crash only has to drop copies.
//
// # Guarantees
//
//   - The journal (Plan.Journal) is written atomically (temporary file, fsync, rename,
//     fsync of its folder) before the first change and at every phase change, after the
//     folders involved were synced.
//   - A failure returned by Swap is an *Error whose State says what Live holds:
//     ErrUnchanged (the failure came before any staged entry moved in; what was moved
//     out was moved back), ErrRolledBack (it was partly replaced and the previous
//     content was put back) or ErrMixed (putting it back failed too: Error.Paths names
//     the folders holding the pieces; the journal is kept, and Resume makes Live one
//     whole tree again).
//   - After a crash, Resume finishes the swap forward, or a revert that was under way
//     backward; see Resume. Every step is checkable (an entry is at its source, at its
//     destination, or at both when it was copied), so Resume can itself be interrupted
//     and called again. Afterwards Live is exactly the new tree or exactly the old one.
//   - Plan.Keep paths stay in Live untouched (same inodes); a staged copy of one is
//     dropped. The rollback then lacks the nested ones.
//
// Durability against SIGKILL is complete. Against power loss it rests on the
// filesystem keeping renames in order after fsync of the folders involved (the nested
// folders of kept paths are not synced).
//
// # What the caller must provide
//
//   - Live, Staging and Rollback on the same mount where possible (e.g. the `_data`
//     folders of volumes under one bind mount of the engine's volume root): otherwise every
//     entry is copied, which is correct but slow and needs the space twice.
//   - Rollback: an empty folder.
//   - Journal: a path outside Live and Rollback, on storage that survives the process. If
//     it is inside Staging, its top-level name must be listed in Plan.Skip.
//   - Exclusive access: no one else writes Live, Staging or Rollback during the swap (the
//     services using them are stopped), and no other Swap or Resume runs on them.
//
// The name ".docker-backup-swap.partial" is reserved at the top of the three folders
// (temporary copies): a Live holding it is refused, a staged one is not moved in.
package swap
