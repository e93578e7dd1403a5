/* The declarations of include/ipcshm.h without the preprocessor, for cffi's
 * cdef() (ABI mode: ffi.dlopen("libipcshm.so.1")). cffi cannot parse #ifndef,
 * #include or (1u << n), so enum values are plain integers here.
 * tests/test_cffi.py checks that this file and the header agree: every
 * prototype, the struct's fields and the enum values. The compiled module
 * (bindings/python/ext/api.h) takes the types of the functions it calls from
 * here too. */

typedef struct ipcshm_handle ipcshm_t;

enum {
  IPCSHM_READONLY = 1,
  IPCSHM_PERSISTENT = 2,
  IPCSHM_OPEN_OR_CREATE = 4,
  IPCSHM_PREFAULT = 8,
  IPCSHM_HUGEPAGES = 16,
  IPCSHM_LOCKED = 32,
  IPCSHM_RESERVE = 64,
  IPCSHM_UNSEALED = 128
};

enum { IPCSHM_KIND_POSIX = 1, IPCSHM_KIND_SYSV = 2, IPCSHM_KIND_MEMFD = 3 };

typedef struct ipcshm_info {
  uint32_t struct_size;
  uint32_t kind;
  uint64_t size;
  uint64_t nattch;
  int64_t atime;
  int64_t dtime;
  int64_t ctime;
  uint32_t mode;
  uint32_t uid, gid;
  uint32_t cuid, cgid;
  int32_t cpid, lpid;
  int32_t key;
  int32_t shmid;
  uint32_t flags;
} ipcshm_info_t;

int ipcshm_create(const char *id, uint64_t size, uint32_t perms, uint32_t flags,
                  ipcshm_t **out);
int ipcshm_attach(const char *id, uint32_t flags, ipcshm_t **out);
int ipcshm_detach(ipcshm_t *h);
int ipcshm_remove(const char *id);
void *ipcshm_pointer(const ipcshm_t *h);
uint64_t ipcshm_size(const ipcshm_t *h);
const char *ipcshm_id(const ipcshm_t *h);
int ipcshm_info(const char *id, ipcshm_info_t *info);
int ipcshm_handle_info(const ipcshm_t *h, ipcshm_info_t *info);
int ipcshm_chmod(const char *id, uint32_t perms);
uint32_t ipcshm_version(void);
const char *ipcshm_strerror(int err);
const char *ipcshm_last_error(void);
uint64_t ipcshm_page_size(void);

int ipcshm_fd(const ipcshm_t *h);
int ipcshm_attach_fd(int fd, uint32_t flags, ipcshm_t **out);
int ipcshm_resize(ipcshm_t *h, uint64_t size);
int ipcshm_send(int sock, const ipcshm_t *h);
int ipcshm_recv(int sock, uint32_t flags, ipcshm_t **out);

enum {
  IPCSHM_INT8 = 1, IPCSHM_UINT8, IPCSHM_INT16, IPCSHM_UINT16, IPCSHM_INT32,
  IPCSHM_UINT32, IPCSHM_INT64, IPCSHM_UINT64, IPCSHM_FLOAT32, IPCSHM_FLOAT64,
  IPCSHM_COMPLEX64, IPCSHM_COMPLEX128
};

int ipcshm_array_create(const char *id, uint32_t etype, uint32_t ndims,
                        const int64_t *dims, uint32_t perms, uint32_t flags,
                        ipcshm_t **out);
int ipcshm_array_header(const ipcshm_t *h, uint32_t *etype, uint32_t *ndims,
                        int64_t *dims, uint32_t maxdims, uint64_t *offset);
void *ipcshm_array_data(const ipcshm_t *h);

int ipcshm_sysv_get(int32_t key, uint64_t size, int32_t shmflg, int32_t *shmid);
int ipcshm_sysv_attach(int32_t shmid, int readonly, void **ptr);
int ipcshm_sysv_detach(const void *ptr);
int ipcshm_sysv_ctl(int32_t shmid, int32_t cmd, void *buf, uint64_t bufsize);
int ipcshm_sysv_remove(int32_t shmid);
uint64_t ipcshm_sysv_shmid_ds_size(void);
int ipcshm_ftok(const char *path, int32_t proj, int32_t *key);

enum { IPCSHM_EVENT_SIZE = 64, IPCSHM_SEM_SIZE = 64, IPCSHM_MUTEX_SIZE = 64 };

int ipcshm_wait(const uint32_t *word, uint32_t expected, int64_t timeout_ns);
int ipcshm_wake(uint32_t *word, uint32_t count);
int ipcshm_event_init(void *ev);
int ipcshm_event_notify(void *ev);
int ipcshm_event_sequence(const void *ev, uint64_t *seq);
int ipcshm_event_wait(void *ev, uint64_t *seen, int64_t timeout_ns);
int ipcshm_event_fd(void *ev);
int ipcshm_sem_init(void *sem, uint32_t value);
int ipcshm_sem_post(void *sem);
int ipcshm_sem_wait(void *sem, int64_t timeout_ns);
int ipcshm_sem_value(const void *sem, uint32_t *value);
int ipcshm_mutex_init(void *m);
int ipcshm_mutex_lock(void *m, int64_t timeout_ns);
int ipcshm_mutex_consistent(void *m);
int ipcshm_mutex_unlock(void *m);

typedef struct ipcshm_channel ipcshm_channel_t;

enum { IPCSHM_SENDER = 1, IPCSHM_RECEIVER = 2 };

enum {
  IPCSHM_END_NEVER = 0,
  IPCSHM_END_OPEN = 1,
  IPCSHM_END_CLOSED = 2,
  IPCSHM_END_DIED = 3
};

typedef struct ipcshm_channel_info {
  uint32_t struct_size;
  uint32_t kind;
  uint32_t slot_size;
  uint32_t slot_count;
  uint32_t sender;
  uint32_t receiver;
  uint64_t queued;
  uint64_t sent;
  uint64_t received;
} ipcshm_channel_info_t;

int ipcshm_channel_create(const char *id, uint32_t slot_size, uint32_t slot_count,
                          uint32_t perms, uint32_t flags, uint32_t role,
                          ipcshm_channel_t **out);
int ipcshm_channel_open(const char *id, uint32_t role, ipcshm_channel_t **out);
int ipcshm_channel_open_fd(int fd, uint32_t role, ipcshm_channel_t **out);
int ipcshm_channel_send(ipcshm_channel_t *ch, const void *msg, uint64_t len,
                        int64_t timeout_ns);
int ipcshm_channel_recv(ipcshm_channel_t *ch, void *buf, uint64_t cap, uint64_t *len,
                        int64_t timeout_ns);
int ipcshm_channel_reserve(ipcshm_channel_t *ch, void **slot, int64_t timeout_ns);
int ipcshm_channel_commit(ipcshm_channel_t *ch, uint64_t len);
int ipcshm_channel_peek(ipcshm_channel_t *ch, const void **msg, uint64_t *len,
                        int64_t timeout_ns);
int ipcshm_channel_release(ipcshm_channel_t *ch);
int ipcshm_channel_close(ipcshm_channel_t *ch);
int ipcshm_channel_handle(const ipcshm_channel_t *ch, const ipcshm_t **h);
int ipcshm_channel_info(const char *id, ipcshm_channel_info_t *info);
int ipcshm_channel_handle_info(const ipcshm_channel_t *ch, ipcshm_channel_info_t *info);
int ipcshm_channel_fd(ipcshm_channel_t *ch);
