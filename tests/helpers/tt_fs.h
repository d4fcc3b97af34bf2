/*
 * tt_fs.h - file-system helpers for the tests that write real files (the document root, the
 * generated file set): a recursive remove that never follows a symlink, and a count of the
 * process's open descriptors, to check that nothing leaks one.
 */
#ifndef HANDOFF_TT_FS_H
#define HANDOFF_TT_FS_H

/* rm -r dir, without following symlinks. Returns 0, or -1 with errno set. */
int tt_remove_tree(const char *dir);

/* The number of entries of /proc/self/fd (the descriptor reading it included), or -1 if it
 * cannot be read. Compare two counts, not a count with a constant. */
int tt_open_fds(void);

#endif
