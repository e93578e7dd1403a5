/* cli_holder: a process that holds a shared memory object for the CLI tests,
 * on the public C API (so that it works in sanitized builds too).
 *
 *   cli_holder create ID SIZE   create the volatile object ID (a template works)
 *                               and write "held" at its start
 *   cli_holder attach ID [ro]   attach the existing object ID (read-only: "ro")
 *   cli_holder channel-create ID SLOT_SIZE SLOTS ROLE N [persistent]
 *                               create the channel ID (volatile unless
 *                               "persistent") and open its end of ROLE
 *                               ("sender" or "receiver"); a sender sends N
 *                               messages of SLOT_SIZE bytes
 *   cli_holder channel-open ID ROLE N
 *                               open the end of ROLE of the channel ID; a
 *                               sender sends N messages, a receiver receives N
 *
 * It prints the object's id and then obeys lines on stdin: "detach" detaches
 * (closes the channel end; a volatile object is destroyed if this was its last
 * user), prints
 * "detached" and exits; end of input exits without detaching (the process's
 * exit then does what the kernel does). The tests SIGKILL it to leave a dead
 * volatile object behind. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcshm.h"

static uint32_t role_of(const char *name) {
  return strcmp(name, "sender") == 0 ? IPCSHM_SENDER : IPCSHM_RECEIVER;
}

/* Sends or receives n messages on the end ch, without waiting. */
static int traffic(ipcshm_channel_t *ch, uint32_t role, unsigned long n) {
  char msg[256] = "message";
  uint64_t len;
  for (unsigned long i = 0; i < n; ++i) {
    int rc = role == IPCSHM_SENDER ? ipcshm_channel_send(ch, msg, 8, 0)
                                   : ipcshm_channel_recv(ch, msg, sizeof msg, &len, 0);
    if (rc < 0) return rc;
  }
  return 0;
}

int main(int argc, char **argv) {
  ipcshm_t *h = NULL;
  ipcshm_channel_t *ch = NULL;
  const ipcshm_t *ch_handle = NULL;
  int rc;
  char line[64];
  if (argc >= 7 && strcmp(argv[1], "channel-create") == 0) {
    const uint32_t flags = argc > 7 && strcmp(argv[7], "persistent") == 0 ? IPCSHM_PERSISTENT : 0;
    rc = ipcshm_channel_create(argv[2], (uint32_t)strtoul(argv[3], NULL, 10),
                               (uint32_t)strtoul(argv[4], NULL, 10), 0600, flags,
                               role_of(argv[5]), &ch);
    if (rc >= 0) rc = traffic(ch, role_of(argv[5]), strtoul(argv[6], NULL, 10));
  } else if (argc >= 5 && strcmp(argv[1], "channel-open") == 0) {
    rc = ipcshm_channel_open(argv[2], role_of(argv[3]), &ch);
    if (rc >= 0) rc = traffic(ch, role_of(argv[3]), strtoul(argv[4], NULL, 10));
  } else if (argc >= 4 && strcmp(argv[1], "create") == 0) {
    rc = ipcshm_create(argv[2], strtoull(argv[3], NULL, 10), 0600, 0, &h);
    if (rc >= 0) memcpy(ipcshm_pointer(h), "held", 4);
  } else if (argc >= 3 && strcmp(argv[1], "attach") == 0) {
    rc = ipcshm_attach(argv[2], argc > 3 && strcmp(argv[3], "ro") == 0 ? IPCSHM_READONLY : 0, &h);
  } else {
    fprintf(stderr,
            "usage: cli_holder create ID SIZE | cli_holder attach ID [ro] | cli_holder "
            "channel-create ID SLOT_SIZE SLOTS ROLE N [persistent] | cli_holder channel-open "
            "ID ROLE N\n");
    return 2;
  }
  if (rc < 0) {
    fprintf(stderr, "cli_holder: %s\n", ipcshm_last_error());
    return 1;
  }
  if (ch) {
    ipcshm_channel_handle(ch, &ch_handle);
    printf("%s\n", ipcshm_id(ch_handle));
  } else {
    printf("%s\n", ipcshm_id(h));
  }
  fflush(stdout);
  while (fgets(line, sizeof line, stdin)) {
    if (strcmp(line, "detach\n") == 0) {
      rc = ch ? ipcshm_channel_close(ch) : ipcshm_detach(h);
      printf(rc == 0 ? "detached\n" : "detach failed\n");
      fflush(stdout);
      return rc == 0 ? 0 : 1;
    }
  }
  return 0;
}
