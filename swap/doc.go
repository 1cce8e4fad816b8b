// Package swap replaces the content of a live directory with a staged one, the last step
// of a volume restore, so that the live content is never half old and half new, not even
// after the process is killed with SIGKILL. It runs inside the helper container ("the
// agent") with the live, staging and rollback folders mounted.
//
// # What Swap does
//
// [Swap] moves the top-level entries of Plan.Live (but the kept ones) into Plan.Rollback,
// then the top-level entries of Plan.Staging (but Plan.Skip) into Live, then puts the
// nested kept paths back from the rollback copy into the new tree, and finally gives Live's
// root directory the staged root's mode, owner and times (as `cp -a staging/. live/`
// would; the root keeps its inode, so a bind mount of it stays valid). Moves are rename(2):
// O(top-level entries), no data copied. Where a rename fails with EXDEV (the folders are on
// different mounts, e.g. a bind-mounted host folder), the entry is copied faithfully with
// [CopyTree] under a temporary name, renamed into place, and then its source is removed.
//
// # Guarantees
//
//   - Before the first change, a journal (Plan.Journal, written atomically: temporary
//     file, fsync, rename, fsync of its folder) records the plan and the phase; every phase
//     change is journaled again, after the moves so far were made durable.
//   - A failure returned by Swap is an [*Error] that says, with errors.Is, what state Live
//     is in: [ErrUnchanged] (nothing was replaced, or what was moved out was moved back),
//     [ErrRolledBack] (it was partly replaced and the previous content was put back) or
//     [ErrMixed] (putting it back failed too: Error.Paths names what is where; the journal
//     is kept, so [Resume] may try again).
//   - After a crash, [Resume] with the same journal finishes the interrupted swap: forward
//     (Live ends up exactly the new tree) when the swap had begun moving, backward (Live
//     ends up exactly the old tree) when it was already putting the old content back after
//     a failure. Every step is checkable (an entry is at its source, at its destination, or
//     at both when only the removal of a copied source is left), so Resume can be
//     interrupted and called again any number of times. See [Resume] for each phase.
//   - Plan.Keep paths stay in Live untouched; a staged copy of one is dropped.
//
// Durability against SIGKILL is complete; against power loss it is as good as the
// filesystem's ordering of renames after fsync of the folders involved.
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
//     services using them are stopped).
//
// [SwapFile] is the counterpart for a bind-mounted single file, which must keep its inode.
package swap
