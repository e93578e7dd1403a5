/* The public header as a strict C99 user sees it: ipcshm.h comes first and
 * alone (it must need no other include), then the layout and constants that are
 * part of the ABI are frozen here. Built with -std=c99 -pedantic -Werror. */
#include "ipcshm.h"

#include <stddef.h>
#include <stdio.h>

/* C99 has no static_assert: a negative array size stops the build. */
#define FROZEN(name, cond) typedef char frozen_##name[(cond) ? 1 : -1]

/* ipcshm_info_t, version 1.0: 88 bytes, no padding. It may only grow at its end
 * (abi/suppressions.abignore); these offsets never change. */
FROZEN(info_size, sizeof(ipcshm_info_t) >= 88);
FROZEN(struct_size, offsetof(ipcshm_info_t, struct_size) == 0);
FROZEN(kind, offsetof(ipcshm_info_t, kind) == 4);
FROZEN(size, offsetof(ipcshm_info_t, size) == 8);
FROZEN(nattch, offsetof(ipcshm_info_t, nattch) == 16);
FROZEN(atime, offsetof(ipcshm_info_t, atime) == 24);
FROZEN(dtime, offsetof(ipcshm_info_t, dtime) == 32);
FROZEN(ctime, offsetof(ipcshm_info_t, ctime) == 40);
FROZEN(mode, offsetof(ipcshm_info_t, mode) == 48);
FROZEN(uid, offsetof(ipcshm_info_t, uid) == 52);
FROZEN(gid, offsetof(ipcshm_info_t, gid) == 56);
FROZEN(cuid, offsetof(ipcshm_info_t, cuid) == 60);
FROZEN(cgid, offsetof(ipcshm_info_t, cgid) == 64);
FROZEN(cpid, offsetof(ipcshm_info_t, cpid) == 68);
FROZEN(lpid, offsetof(ipcshm_info_t, lpid) == 72);
FROZEN(key, offsetof(ipcshm_info_t, key) == 76);
FROZEN(shmid, offsetof(ipcshm_info_t, shmid) == 80);
FROZEN(flags, offsetof(ipcshm_info_t, flags) == 84);

/* Constants are compiled into callers: their values never change. */
FROZEN(readonly, IPCSHM_READONLY == 1);
FROZEN(persistent, IPCSHM_PERSISTENT == 2);
FROZEN(open_or_create, IPCSHM_OPEN_OR_CREATE == 4);
FROZEN(prefault, IPCSHM_PREFAULT == 8);
FROZEN(locked, IPCSHM_LOCKED == 32);
FROZEN(reserve, IPCSHM_RESERVE == 64);
FROZEN(kind_posix, IPCSHM_KIND_POSIX == 1);
FROZEN(kind_sysv, IPCSHM_KIND_SYSV == 2);
FROZEN(kind_memfd, IPCSHM_KIND_MEMFD == 3);
/* Since 1.2: the primitives' sizes, part of every shared layout that holds one. */
FROZEN(event_size, IPCSHM_EVENT_SIZE == 64);
FROZEN(sem_size, IPCSHM_SEM_SIZE == 64);
FROZEN(mutex_size, IPCSHM_MUTEX_SIZE == 64);
/* Since 1.2: channels. ipcshm_channel_info_t, first version: 48 bytes, no
 * padding; it may only grow at its end. */
FROZEN(sender, IPCSHM_SENDER == 1);
FROZEN(receiver, IPCSHM_RECEIVER == 2);
FROZEN(end_never, IPCSHM_END_NEVER == 0);
FROZEN(end_open, IPCSHM_END_OPEN == 1);
FROZEN(end_closed, IPCSHM_END_CLOSED == 2);
FROZEN(end_died, IPCSHM_END_DIED == 3);
FROZEN(chinfo_size, sizeof(ipcshm_channel_info_t) >= 48);
FROZEN(chinfo_struct_size, offsetof(ipcshm_channel_info_t, struct_size) == 0);
FROZEN(chinfo_kind, offsetof(ipcshm_channel_info_t, kind) == 4);
FROZEN(chinfo_slot_size, offsetof(ipcshm_channel_info_t, slot_size) == 8);
FROZEN(chinfo_slot_count, offsetof(ipcshm_channel_info_t, slot_count) == 12);
FROZEN(chinfo_sender, offsetof(ipcshm_channel_info_t, sender) == 16);
FROZEN(chinfo_receiver, offsetof(ipcshm_channel_info_t, receiver) == 20);
FROZEN(chinfo_queued, offsetof(ipcshm_channel_info_t, queued) == 24);
FROZEN(chinfo_sent, offsetof(ipcshm_channel_info_t, sent) == 32);
FROZEN(chinfo_received, offsetof(ipcshm_channel_info_t, received) == 40);

int main(void) {
  uint32_t v = ipcshm_version();
  if (v != (uint32_t)IPCSHM_VERSION) {
    fprintf(stderr, "header_c: ipcshm.h is version 0x%06x, the library 0x%06x\n",
            (unsigned)IPCSHM_VERSION, (unsigned)v);
    return 1;
  }
  if ((v >> 16) != IPCSHM_VERSION_MAJOR) {
    fprintf(stderr, "header_c: major version mismatch\n");
    return 1;
  }
  printf("header_c: C99, ipcshm_info_t %u bytes, version %u.%u.%u\n",
         (unsigned)sizeof(ipcshm_info_t), (unsigned)(v >> 16), (unsigned)((v >> 8) & 0xff),
         (unsigned)(v & 0xff));
  return 0;
}
