// ipcshm — list, inspect, create, remove, read, write and reclaim shared memory.
//
// Built on libipcshm's public C API only (ipcshm.h), plus libbsd for what it is
// for: expand_number (sizes), humanize_number (human sizes), strtonum (numbers).
// Two places look past the API, on purpose and read-only:
//   - `ls` enumerates objects from /dev/shm (readdir) and /proc/sysvipc/shm, since
//     the API names objects but does not list them; everything it shows of an
//     object comes from ipcshm_info() (System V: /proc's line when IPC_STAT is
//     not permitted).
//   - `gc --dry-run` tells a dead volatile POSIX object from a live one by the
//     lock protocol that ipcshm.h documents (rule 4: every live user holds a shared
//     flock), reading /proc/locks, because the API has no way to ask without
//     reclaiming. `gc` itself reclaims through ipcshm_attach(), which removes a
//     dead volatile object and gives -ENOENT.
//
// Exit status, as ipcs/ipcrm users expect: 0 success, 1 a failure (no such object,
// permission denied, ...; the library's message on stderr), 2 bad usage.
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <bsd/libutil.h>
#include <bsd/stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "ipcshm.h"

#ifndef IPCSHM_CLI_VERSION
#define IPCSHM_CLI_VERSION "unknown"
#endif

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFail = 1;
constexpr int kExitUsage = 2;

constexpr const char* kShmDir = "/dev/shm";
constexpr const char* kSysvTable = "/proc/sysvipc/shm";
constexpr uint32_t kSysvDest = 01000;  // SHM_DEST in /proc/sysvipc/shm's perms

// ---------------------------------------------------------------------------
// Commands, their synopses and help

struct Command {
  const char* name;
  const char* synopsis;
  const char* help;
  int (*run)(int argc, char** argv);
};

const Command* g_command = nullptr;  // the command being run, for usage errors

// Thrown for a bad command line: main prints it with the usage and exits 2.
struct UsageError {
  std::string message;
};

[[gnu::format(printf, 1, 2)]] std::string format(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char small[256];
  int n = std::vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return fmt;
  if (static_cast<size_t>(n) < sizeof small) return std::string(small, static_cast<size_t>(n));
  std::string big(static_cast<size_t>(n) + 1, '\0');
  va_start(ap, fmt);
  std::vsnprintf(big.data(), big.size(), fmt, ap);
  va_end(ap);
  big.resize(static_cast<size_t>(n));
  return big;
}

[[noreturn, gnu::format(printf, 1, 2)]] void usage_error(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char buf[1024];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  throw UsageError{buf};
}

// "ipcshm: <message>" on stderr.
[[gnu::format(printf, 1, 2)]] void complain(const char* fmt, ...) {
  std::fflush(stdout);
  std::fputs("ipcshm: ", stderr);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
}

// The library's message for the failure just seen.
int library_failure(int rc) {
  const char* msg = ipcshm_last_error();
  complain("%s", msg && *msg ? msg : ipcshm_strerror(rc));
  return kExitFail;
}

// ---------------------------------------------------------------------------
// Option parsing

struct Option {
  const char* name;
  bool has_arg;
  int key;
};

// Parses the command's options (GNU style: they may follow the operands; "--"
// ends them). Calls on_option(key, arg) for each and returns the operands.
// --help prints the command's help and returns false in *go_on.
template <typename OnOption>
std::vector<std::string> parse_options(int argc, char** argv, const std::vector<Option>& opts,
                                       OnOption on_option, bool* go_on) {
  std::vector<struct option> longs;
  for (const Option& o : opts)
    longs.push_back({o.name, o.has_arg ? required_argument : no_argument, nullptr, o.key});
  longs.push_back({"help", no_argument, nullptr, 'h'});
  longs.push_back({nullptr, 0, nullptr, 0});
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":h", longs.data(), nullptr)) != -1) {
    if (c == 'h') {
      std::printf("Usage: %s\n%s", g_command->synopsis, g_command->help);
      *go_on = false;
      return {};
    }
    if (c == ':') usage_error("option '%s' needs a value", argv[optind - 1]);
    if (c == '?') {
      const char* arg = argv[optind - 1];
      if (std::strncmp(arg, "--", 2) == 0 && optopt != 0)
        usage_error("option '%s' takes no value", arg);
      if (optopt != 0 && std::strncmp(arg, "--", 2) != 0) usage_error("unknown option '-%c'", optopt);
      usage_error("unknown option '%s'", arg);
    }
    on_option(c, optarg);
  }
  *go_on = true;
  return std::vector<std::string>(argv + optind, argv + argc);
}

void expect_operands(const std::vector<std::string>& ops, size_t min, size_t max,
                     const char* what) {
  if (ops.size() < min) usage_error("missing %s", what);
  if (ops.size() > max) usage_error("unexpected argument '%s'", ops[max].c_str());
}

// ---------------------------------------------------------------------------
// Numbers: sizes, offsets, lengths, modes

// A byte count: "4096", "64K", "1.5G", "2MiB". Suffixes K M G T P E are powers of
// 1024 (an optional "B" or "iB" may follow; case does not matter). Fractions are
// exact and must come to a whole number of bytes ("1.5K" is 1536, "1.1K" is an
// error). libbsd's expand_number does the suffix arithmetic; it accepts neither
// fractions nor, reliably, bad input ("-1" wraps, "64Kx" is 64K, overflow
// saturates), so the syntax is checked here first.
bool parse_size(const char* text, uint64_t* out, std::string* why) {
  const char* p = text;
  size_t int_len = std::strspn(p, "0123456789");
  if (int_len == 0) {
    *why = "not a number";
    return false;
  }
  std::string int_part(p, int_len);
  p += int_len;
  std::string frac;
  if (*p == '.') {
    ++p;
    size_t frac_len = std::strspn(p, "0123456789");
    if (frac_len == 0) {
      *why = "a fraction needs digits after the '.'";
      return false;
    }
    frac.assign(p, frac_len);
    p += frac_len;
  }
  char suffix = '\0';
  if (*p && std::strchr("KMGTPEkmgtpe", *p)) {
    suffix = static_cast<char>(*p);
    ++p;
    if (*p == 'i' && (p[1] == 'B' || p[1] == 'b')) p += 2;
    else if (*p == 'B' || *p == 'b') ++p;
  } else if (*p == 'B' || *p == 'b') {
    ++p;
  }
  if (*p != '\0') {
    *why = "expected digits, an optional fraction and a suffix K, M, G, T, P or E";
    return false;
  }
  // The integer part must fit on its own: expand_number would saturate it.
  errno = 0;
  char* end = nullptr;
  std::strtoull(int_part.c_str(), &end, 10);
  if (errno == ERANGE) {
    *why = "too large";
    return false;
  }
  uint64_t whole = 0, unit = 1;
  if (int_part.size() <= 18 && suffix == '\0') {
    // Plain decimal: strtonum, as for every other number.
    const char* err = nullptr;
    whole = static_cast<uint64_t>(strtonum(int_part.c_str(), 0, LLONG_MAX, &err));
    if (err) {
      *why = err;
      return false;
    }
  } else {
    std::string spelled = int_part + (suffix ? std::string(1, suffix) : std::string());
    if (expand_number(spelled.c_str(), &whole) != 0) {
      *why = errno == ERANGE ? "too large" : "not a number";
      return false;
    }
  }
  if (suffix) {
    std::string one = std::string("1") + suffix;
    if (expand_number(one.c_str(), &unit) != 0) {
      *why = "bad suffix";
      return false;
    }
  }
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  if (!frac.empty()) {
    // whole + frac/10^k * unit, which must be a whole number of bytes.
    if (frac.size() > 19) {
      *why = "too many decimals";
      return false;
    }
    uint64_t f = std::strtoull(frac.c_str(), nullptr, 10), pow10 = 1, scaled;
    for (size_t i = 0; i < frac.size(); ++i) pow10 *= 10;
    if (__builtin_mul_overflow(f, unit, &scaled)) {
      *why = "too large or too precise";
      return false;
    }
    if (scaled % pow10 != 0) {
      *why = "not a whole number of bytes";
      return false;
    }
    if (__builtin_add_overflow(whole, scaled / pow10, &whole)) {
      *why = "too large";
      return false;
    }
  }
  *out = whole;
  return true;
}

uint64_t size_arg(const char* text, const char* what, bool allow_zero) {
  uint64_t value = 0;
  std::string why;
  if (!parse_size(text, &value, &why))
    usage_error("invalid %s '%s': %s (e.g. 4096, 64K, 1.5G)", what, text, why.c_str());
  if (value == 0 && !allow_zero) usage_error("invalid %s '%s': must be at least 1", what, text);
  return value;
}

// Permission bits in octal: "0640", "640", "600".
uint32_t mode_arg(const char* text) {
  size_t n = std::strspn(text, "01234567");
  if (n == 0 || text[n] != '\0' || n > 4)
    usage_error("invalid mode '%s': expected octal permission bits, e.g. 0640", text);
  unsigned long value = std::strtoul(text, nullptr, 8);
  if (value > 0777)
    usage_error("invalid mode '%s': only the permission bits 0..0777 can be set", text);
  return static_cast<uint32_t>(value);
}

void note_owner_bits(uint32_t mode) {
  if ((mode & 0600) != 0600)
    complain("note: the owner always keeps read and write: mode %04o is applied as %04o",
             mode, mode | 0600);
}

// ---------------------------------------------------------------------------
// Ids and objects

ipcshm_info_t blank_info() {
  ipcshm_info_t info;
  std::memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  return info;
}

// Asks the library about id. -EINVAL means the id itself is malformed (or is
// "private", which names no existing object): a usage error.
int info_or_usage(const std::string& id, ipcshm_info_t* info) {
  int rc = ipcshm_info(id.c_str(), info);
  if (rc == -EINVAL) usage_error("%s", ipcshm_last_error());
  return rc;
}

std::string canonical_id(const std::string& given, const ipcshm_info_t& info) {
  if (info.kind == IPCSHM_KIND_SYSV) return format("shmid:%" PRId32, info.shmid);
  return given;
}

const char* kind_name(uint32_t kind) {
  switch (kind) {
    case IPCSHM_KIND_POSIX: return "posix";
    case IPCSHM_KIND_SYSV: return "sysv";
    case IPCSHM_KIND_MEMFD: return "memfd";
    default: return "unknown";
  }
}

bool is_volatile(const ipcshm_info_t& info) { return !(info.flags & IPCSHM_PERSISTENT); }

// Names of users and groups, looked up once each (ls asks for the same ones
// row after row).
template <typename Lookup>
std::string cached_name(std::map<uint32_t, std::string>& cache, uint32_t id, Lookup lookup) {
  auto it = cache.find(id);
  if (it != cache.end()) return it->second;
  const char* found = lookup(id);
  return cache.emplace(id, found ? found : "").first->second;
}

std::string user_name(uint32_t uid) {
  static std::map<uint32_t, std::string> cache;
  return cached_name(cache, uid, [](uint32_t id) -> const char* {
    struct passwd* pw = getpwuid(static_cast<uid_t>(id));
    return pw ? pw->pw_name : nullptr;
  });
}

std::string group_name(uint32_t gid) {
  static std::map<uint32_t, std::string> cache;
  return cached_name(cache, gid, [](uint32_t id) -> const char* {
    struct group* gr = getgrgid(static_cast<gid_t>(id));
    return gr ? gr->gr_name : nullptr;
  });
}

std::string owner_text(uint32_t uid) {
  std::string name = user_name(uid);
  return name.empty() ? std::to_string(uid) : name;
}

std::string human_size(uint64_t bytes) {
  char buf[8];
  if (bytes > static_cast<uint64_t>(INT64_MAX) ||
      humanize_number(buf, 5, static_cast<int64_t>(bytes), "", HN_AUTOSCALE,
                      HN_DECIMAL | HN_NOSPACE | HN_B) < 0)
    return std::to_string(bytes);
  return buf;
}

std::string time_text(int64_t seconds) {
  if (seconds == 0) return "never";
  time_t t = static_cast<time_t>(seconds);
  struct tm tm;
  char buf[64];
  if (!localtime_r(&t, &tm) || ::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm) == 0)
    return std::to_string(seconds);
  return buf;
}

// The length of the well-formed UTF-8 sequence at p[i] (of n bytes), or 0.
size_t utf8_length(const unsigned char* p, size_t i, size_t n) {
  const unsigned char c = p[i];
  if (c < 0x80) return 1;
  size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
  if (len == 0 || i + len > n) return 0;
  for (size_t k = 1; k < len; ++k)
    if ((p[i + k] & 0xc0) != 0x80) return 0;
  if (len == 3) {
    unsigned cp = ((c & 0x0fu) << 12) | ((p[i + 1] & 0x3fu) << 6) | (p[i + 2] & 0x3fu);
    if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  } else if (len == 4) {
    unsigned cp = ((c & 0x07u) << 18) | ((p[i + 1] & 0x3fu) << 12) |
                  ((p[i + 2] & 0x3fu) << 6) | (p[i + 3] & 0x3fu);
    if (cp < 0x10000 || cp > 0x10ffff) return 0;
  }
  return len;
}

// A name for a terminal (names are bytes): a backslash as \\, control bytes and
// bytes that are not UTF-8 as \xHH.
std::string printable(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const size_t len = utf8_length(p, i, s.size());
    if (p[i] == '\\') {
      out += "\\\\";
      ++i;
    } else if (len == 0 || p[i] < 0x20 || p[i] == 0x7f) {
      out += format("\\x%02x", p[i]);
      ++i;
    } else {
      out.append(s, i, len);
      i += len;
    }
  }
  return out;
}

// A JSON string. Bytes that are not UTF-8 (names are bytes) become \udcXX, as
// Python's surrogateescape spells them, so the name survives a round trip there.
std::string json_string(const std::string& s) {
  std::string out = "\"";
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size();
  for (size_t i = 0; i < n;) {
    unsigned char c = p[i];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      out += format("\\u%04x", c);
      ++i;
    } else if (size_t len = utf8_length(p, i, n); len > 0) {
      out.append(s, i, len);  // well-formed UTF-8 passes as is
      i += len;
    } else {
      out += format("\\udc%02x", c);
      ++i;
    }
  }
  return out + "\"";
}

// One object, as `info --json` and `ls --json` print it: every field of
// ipcshm_info_t (but struct_size), plus its id, whether it is volatile, and the
// owner's names. mode is octal text; key is the unsigned 32-bit key ("key:N").
std::string json_object(const std::string& id, const ipcshm_info_t& in) {
  std::string user = user_name(in.uid), group = group_name(in.gid);
  return format(
      "{\"id\": %s, \"kind\": \"%s\", \"size\": %" PRIu64 ", \"nattch\": %" PRIu64
      ", \"atime\": %" PRId64 ", \"dtime\": %" PRId64 ", \"ctime\": %" PRId64
      ", \"mode\": \"%04o\", \"uid\": %" PRIu32 ", \"gid\": %" PRIu32 ", \"cuid\": %" PRIu32
      ", \"cgid\": %" PRIu32 ", \"cpid\": %" PRId32 ", \"lpid\": %" PRId32 ", \"key\": %" PRIu32
      ", \"shmid\": %" PRId32 ", \"flags\": %" PRIu32 ", \"volatile\": %s, \"owner\": %s"
      ", \"group\": %s}",
      json_string(id).c_str(), kind_name(in.kind), in.size, in.nattch, in.atime, in.dtime,
      in.ctime, in.mode, in.uid, in.gid, in.cuid, in.cgid, in.cpid, in.lpid,
      static_cast<uint32_t>(in.key), in.shmid, in.flags, is_volatile(in) ? "true" : "false",
      user.empty() ? "null" : json_string(user).c_str(),
      group.empty() ? "null" : json_string(group).c_str());
}

// ---------------------------------------------------------------------------
// Enumeration (ls, gc)

struct Entry {
  std::string id;
  ipcshm_info_t info;
};

// Every POSIX object in /dev/shm, sorted by name. Files named "sem.*" are POSIX
// semaphores (sem_open), not shared memory objects, and are left out.
bool list_posix(std::vector<Entry>* out) {
  DIR* dir = opendir(kShmDir);
  if (!dir) {
    if (errno == ENOENT) return true;
    complain("opendir(\"%s\"): %s", kShmDir, std::strerror(errno));
    return false;
  }
  bool ok = true;
  for (;;) {
    errno = 0;  // readdir tells the end from an error by errno only
    struct dirent* de = readdir(dir);
    if (!de) break;
    std::string name = de->d_name;
    if (name == "." || name == ".." || name.rfind("sem.", 0) == 0) continue;
    if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN) continue;
    Entry e{"/" + name, blank_info()};
    int rc = ipcshm_info(e.id.c_str(), &e.info);
    if (rc == -ENOENT) continue;  // gone meanwhile
    if (rc < 0) {
      library_failure(rc);
      ok = false;
      continue;
    }
    out->push_back(std::move(e));
  }
  if (errno != 0) {
    complain("readdir(\"%s\"): %s", kShmDir, std::strerror(errno));
    ok = false;
  }
  closedir(dir);
  std::sort(out->begin(), out->end(),
            [](const Entry& a, const Entry& b) { return a.id < b.id; });
  return ok;
}

// Every System V segment in /proc/sysvipc/shm, sorted by shmid: ipcshm_info() of
// "shmid:N", or /proc's line where IPC_STAT is not permitted (no read permission).
bool list_sysv(std::vector<Entry>* out) {
  FILE* f = std::fopen(kSysvTable, "re");
  if (!f) {
    if (errno == ENOENT) return true;  // a kernel without System V IPC
    complain("fopen(\"%s\"): %s", kSysvTable, std::strerror(errno));
    return false;
  }
  bool ok = true;
  char line[512];
  bool header = true;
  while (std::fgets(line, sizeof line, f)) {
    if (header) {
      header = false;
      continue;
    }
    int32_t key, shmid, cpid, lpid;
    unsigned perms, uid, gid, cuid, cgid;
    unsigned long long size, nattch;
    long long atime, dtime, ctime;
    int n = std::sscanf(line, "%" SCNd32 " %" SCNd32 " %o %llu %" SCNd32 " %" SCNd32
                              " %llu %u %u %u %u %lld %lld %lld",
                        &key, &shmid, &perms, &size, &cpid, &lpid, &nattch, &uid, &gid,
                        &cuid, &cgid, &atime, &dtime, &ctime);
    if (n != 14) {
      complain("%s: unexpected line: %s", kSysvTable, line);
      ok = false;
      continue;
    }
    Entry e{format("shmid:%" PRId32, shmid), blank_info()};
    int rc = ipcshm_info(e.id.c_str(), &e.info);
    if (rc == -ENOENT) continue;  // removed meanwhile
    if (rc < 0) {
      // Not permitted to look closer: what /proc tells is all there is.
      e.info.kind = IPCSHM_KIND_SYSV;
      e.info.size = size;
      e.info.nattch = nattch;
      e.info.atime = atime;
      e.info.dtime = dtime;
      e.info.ctime = ctime;
      e.info.mode = perms & 0777;
      e.info.uid = uid;
      e.info.gid = gid;
      e.info.cuid = cuid;
      e.info.cgid = cgid;
      e.info.cpid = cpid;
      e.info.lpid = lpid;
      e.info.key = key;
      e.info.shmid = shmid;
      e.info.flags = (perms & kSysvDest) ? 0 : IPCSHM_PERSISTENT;
    }
    out->push_back(std::move(e));
  }
  std::fclose(f);
  std::sort(out->begin(), out->end(),
            [](const Entry& a, const Entry& b) { return a.info.shmid < b.info.shmid; });
  return ok;
}

// The width of a printable() text on a terminal: one column per character
// (UTF-8 continuation bytes take none).
size_t columns(const std::string& s) {
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xc0) != 0x80; }));
}

// Rows of cells in aligned columns, two spaces apart; `right` marks the columns
// aligned right (numbers). The last column is not padded.
void print_table(const std::vector<std::vector<std::string>>& rows,
                 const std::vector<bool>& right) {
  std::vector<size_t> width(right.size(), 0);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], columns(row[i]));
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      const bool last = i + 1 == row.size();
      std::string pad(width[i] - columns(row[i]), ' ');
      if (i > 0) line += "  ";
      if (right[i]) line += pad + row[i];
      else line += last ? row[i] : row[i] + pad;
    }
    std::puts(line.c_str());
  }
}

// ---------------------------------------------------------------------------
// ls

const char kLsHelp[] =
    "List every POSIX shared memory object (/dev/shm) and every System V segment\n"
    "(/proc/sysvipc/shm): POSIX objects sorted by name, then System V segments by\n"
    "identifier.\n"
    "\n"
    "  --posix   POSIX objects only\n"
    "  --sysv    System V segments only\n"
    "  --json    a JSON array of objects, each as 'ipcshm info ID --json' prints it\n"
    "\n"
    "Columns: KIND (posix, sysv), ID (to give to the other commands), KEY (System V),\n"
    "SIZE (human, powers of 1024), BYTES, MODE (octal), OWNER, CPID (System V\n"
    "creator), NATTCH (System V attachments), VOLATILE (yes: destroyed with its last\n"
    "user), CHANGED (last change, local time). '-' marks what a kind does not have.\n"
    "POSIX semaphores (sem.* in /dev/shm) are not listed.\n";

int cmd_ls(int argc, char** argv) {
  bool posix = false, sysv = false, json = false, go_on;
  auto ops = parse_options(
      argc, argv, {{"posix", false, 'p'}, {"sysv", false, 's'}, {"json", false, 'j'}},
      [&](int key, const char*) {
        if (key == 'p') posix = true;
        if (key == 's') sysv = true;
        if (key == 'j') json = true;
      },
      &go_on);
  if (!go_on) return kExitOk;
  expect_operands(ops, 0, 0, "");
  if (!posix && !sysv) posix = sysv = true;

  std::vector<Entry> entries;
  bool ok = true;
  if (posix) ok &= list_posix(&entries);
  if (sysv) ok &= list_sysv(&entries);

  if (json) {
    std::puts("[");
    for (size_t i = 0; i < entries.size(); ++i)
      std::printf("  %s%s\n", json_object(entries[i].id, entries[i].info).c_str(),
                  i + 1 < entries.size() ? "," : "");
    std::puts("]");
  } else {
    std::vector<std::vector<std::string>> rows = {{"KIND", "ID", "KEY", "SIZE", "BYTES", "MODE",
                                                   "OWNER", "CPID", "NATTCH", "VOLATILE",
                                                   "CHANGED"}};
    for (const Entry& e : entries) {
      const ipcshm_info_t& in = e.info;
      const bool sv = in.kind == IPCSHM_KIND_SYSV;
      rows.push_back({kind_name(in.kind), printable(e.id),
                      sv ? format("0x%08" PRIx32, static_cast<uint32_t>(in.key)) : "-",
                      human_size(in.size), std::to_string(in.size), format("%04o", in.mode),
                      printable(owner_text(in.uid)), sv ? std::to_string(in.cpid) : "-",
                      sv ? std::to_string(in.nattch) : "-", is_volatile(in) ? "yes" : "no",
                      time_text(in.ctime)});
    }
    print_table(rows, {false, false, false, true, true, false, false, true, true, false, false});
  }
  return ok ? kExitOk : kExitFail;
}

// ---------------------------------------------------------------------------
// info

const char kInfoHelp[] =
    "Show every field the library knows of one object (ipcshm_info_t): kind, size,\n"
    "nattch (System V), atime/dtime/ctime (System V: last attach, detach, change;\n"
    "POSIX: access, modification, change), mode, owner and creator ids, creator and\n"
    "last pid (System V), key, shmid, and flags (persistent or volatile). Needs only\n"
    "read permission. ID is /name, key:0x1234, key:4660 or shmid:N.\n"
    "\n"
    "  --json    one JSON object (mode as octal text, key as an unsigned number,\n"
    "            times in seconds since the epoch, 0 for never)\n";

std::string id_text(uint32_t id, const std::string& name) {
  return name.empty() ? std::to_string(id) : format("%" PRIu32 " (%s)", id, name.c_str());
}

int cmd_info(int argc, char** argv) {
  bool json = false, go_on;
  auto ops = parse_options(argc, argv, {{"json", false, 'j'}},
                           [&](int, const char*) { json = true; }, &go_on);
  if (!go_on) return kExitOk;
  expect_operands(ops, 1, 1, "ID");
  ipcshm_info_t in = blank_info();
  if (int rc = info_or_usage(ops[0], &in); rc < 0) return library_failure(rc);
  const std::string id = canonical_id(ops[0], in);
  if (json) {
    std::printf("%s\n", json_object(id, in).c_str());
    return kExitOk;
  }
  auto time_field = [](int64_t t) {
    return t == 0 ? std::string("never") : format("%s (%" PRId64 ")", time_text(t).c_str(), t);
  };
  std::vector<std::vector<std::string>> rows = {
      {"id:", printable(id)},
      {"kind:", kind_name(in.kind)},
      {"size:", format("%" PRIu64 " (%s)", in.size, human_size(in.size).c_str())},
      {"nattch:", std::to_string(in.nattch)},
      {"atime:", time_field(in.atime)},
      {"dtime:", time_field(in.dtime)},
      {"ctime:", time_field(in.ctime)},
      {"mode:", format("%04o", in.mode)},
      {"uid:", id_text(in.uid, user_name(in.uid))},
      {"gid:", id_text(in.gid, group_name(in.gid))},
      {"cuid:", id_text(in.cuid, user_name(in.cuid))},
      {"cgid:", id_text(in.cgid, group_name(in.cgid))},
      {"cpid:", std::to_string(in.cpid)},
      {"lpid:", std::to_string(in.lpid)},
      {"key:", format("0x%08" PRIx32, static_cast<uint32_t>(in.key))},
      {"shmid:", std::to_string(in.shmid)},
      {"flags:", format("0x%" PRIx32 " (%s)", in.flags, is_volatile(in) ? "volatile" : "persistent")},
  };
  print_table(rows, {false, false});
  return kExitOk;
}

// ---------------------------------------------------------------------------
// create

const char kCreateHelp[] =
    "Create the object ID of SIZE bytes and print its canonical id (the name a\n"
    "template chose, or shmid:N for System V). ID is /name, /nameXXXXXX (a unique\n"
    "name), key:0x1234, key:4660 or private (a new System V segment). SIZE takes\n"
    "K, M, G, T, P, E suffixes (powers of 1024) and exact fractions: 4096, 64K, 1.5G.\n"
    "\n"
    "  --mode MODE    permission bits in octal (default 0600); the owner always\n"
    "                 keeps read and write; the umask does not apply\n"
    "  --persistent   the object stays until 'ipcshm rm' or reboot (the default)\n"
    "\n"
    "Objects made here are always persistent, as ipcmk makes them: a volatile object\n"
    "lives only as long as its users, and this command, its only user, exits at\n"
    "once. Programs make volatile objects through the library. An existing ID is an\n"
    "error (exit 1) and is left untouched.\n";

int cmd_create(int argc, char** argv) {
  uint32_t mode = 0600;
  bool go_on;
  auto ops = parse_options(
      argc, argv, {{"mode", true, 'm'}, {"persistent", false, 'P'}, {"volatile", false, 'V'}},
      [&](int key, const char* arg) {
        if (key == 'm') mode = mode_arg(arg);
        if (key == 'V')
          usage_error("--volatile: a volatile object would be destroyed as soon as this "
                      "command exits, its only user; objects made by 'ipcshm create' are "
                      "persistent (remove them with 'ipcshm rm')");
      },
      &go_on);
  if (!go_on) return kExitOk;
  expect_operands(ops, 2, 2, ops.empty() ? "ID and SIZE" : "SIZE");
  const std::string& id = ops[0];
  const uint64_t size = size_arg(ops[1].c_str(), "size", false);
  if (id != "private") {
    ipcshm_info_t in = blank_info();
    info_or_usage(id, &in);  // a malformed id is a usage error
  }
  note_owner_bits(mode);
  ipcshm_t* h = nullptr;
  int rc = ipcshm_create(id.c_str(), size, mode, IPCSHM_PERSISTENT, &h);
  if (rc < 0) return library_failure(rc);
  std::printf("%s\n", ipcshm_id(h));
  ipcshm_detach(h);
  return kExitOk;
}

// ---------------------------------------------------------------------------
// rm

const char kRmHelp[] =
    "Remove the objects named (ipcrm): POSIX: shm_unlink; System V: IPC_RMID. Processes\n"
    "that have an object mapped keep their memory until they detach. Every ID is\n"
    "tried; the exit status is 1 if any of them was missing or could not be removed.\n"
    "ID is /name, key:0x1234, key:4660 or shmid:N.\n";

int cmd_rm(int argc, char** argv) {
  bool go_on;
  auto ops = parse_options(argc, argv, {}, [](int, const char*) {}, &go_on);
  if (!go_on) return kExitOk;
  expect_operands(ops, 1, SIZE_MAX, "ID");
  // Every id is checked before anything is removed; ipcshm_remove() says 0 for a
  // missing object (as IPC.jl's shmrm), so ipcshm_info() tells the missing ones.
  std::vector<int> found(ops.size());
  std::vector<std::string> missing(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    ipcshm_info_t in = blank_info();
    found[i] = info_or_usage(ops[i], &in);
    if (found[i] < 0) missing[i] = ipcshm_last_error();
  }
  int status = kExitOk;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (found[i] < 0) {
      complain("%s", missing[i].c_str());
      status = kExitFail;
      continue;
    }
    if (int rc = ipcshm_remove(ops[i].c_str()); rc < 0) status = library_failure(rc);
  }
  return status;
}

// ---------------------------------------------------------------------------
// chmod

const char kChmodHelp[] =
    "Set the permission bits of ID to MODE (octal, e.g. 0640): System V IPC_SET,\n"
    "POSIX fchmod (a volatile object stays volatile). The owner always keeps read and\n"
    "write. Only the owner or root may.\n";

int cmd_chmod(int argc, char** argv) {
  bool go_on;
  auto ops = parse_options(argc, argv, {}, [](int, const char*) {}, &go_on);
  if (!go_on) return kExitOk;
  expect_operands(ops, 2, 2, ops.empty() ? "ID and MODE" : "MODE");
  const uint32_t mode = mode_arg(ops[1].c_str());
  ipcshm_info_t in = blank_info();
  if (int rc = info_or_usage(ops[0], &in); rc < 0) return library_failure(rc);
  note_owner_bits(mode);
  if (int rc = ipcshm_chmod(ops[0].c_str(), mode); rc < 0) return library_failure(rc);
  return kExitOk;
}

// ---------------------------------------------------------------------------
// cat and write

const char kCatHelp[] =
    "Copy the bytes of ID to stdout, raw. The object is attached read-only, so read\n"
    "permission is enough.\n"
    "\n"
    "  --offset N   start N bytes in (default 0)\n"
    "  --length N   copy N bytes (default: to the end)\n"
    "\n"
    "N takes the suffixes of sizes (4K). A range past the end of the object is an\n"
    "error (exit 1) and copies nothing.\n";

const char kWriteHelp[] =
    "Copy stdin into ID, from the start or from --offset, never past the object's\n"
    "end. Bytes after the input are left as they are.\n"
    "\n"
    "  --offset N   start N bytes in (default 0)\n"
    "\n"
    "Input that does not fit is an error (exit 1). From a regular file it is\n"
    "refused before anything is written; from a pipe, the bytes that fit have been\n"
    "written when the excess shows, and the message says how many.\n";

// Attaches an object for cat/write; a malformed id is a usage error.
int attach_object(const std::string& id, uint32_t flags, ipcshm_t** h) {
  ipcshm_info_t in = blank_info();
  if (int rc = info_or_usage(id, &in); rc < 0) return rc;
  return ipcshm_attach(id.c_str(), flags, h);
}

bool write_all(int fd, const char* p, uint64_t n) {
  while (n > 0) {
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, 1u << 20));
    ssize_t w = ::write(fd, p, chunk);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<uint64_t>(w);
  }
  return true;
}

int cmd_cat(int argc, char** argv) {
  uint64_t offset = 0, length = 0;
  bool has_length = false, go_on;
  auto ops = parse_options(
      argc, argv, {{"offset", true, 'o'}, {"length", true, 'l'}},
      [&](int key, const char* arg) {
        if (key == 'o') offset = size_arg(arg, "offset", true);
        if (key == 'l') {
          length = size_arg(arg, "length", true);
          has_length = true;
        }
      },
      &go_on);
  if (!go_on) return kExitOk;
  expect_operands(ops, 1, 1, "ID");
  ipcshm_t* h = nullptr;
  if (int rc = attach_object(ops[0], IPCSHM_READONLY, &h); rc < 0) return library_failure(rc);
  const uint64_t size = ipcshm_size(h);
  int status = kExitOk;
  if (offset > size) {
    complain("offset %" PRIu64 " is past the end of %s (%" PRIu64 " bytes)", offset,
             ops[0].c_str(), size);
    status = kExitFail;
  } else if (has_length && length > size - offset) {
    complain("%" PRIu64 " bytes from offset %" PRIu64 " go past the end of %s (%" PRIu64
             " bytes)",
             length, offset, ops[0].c_str(), size);
    status = kExitFail;
  } else {
    if (!has_length) length = size - offset;
    std::fflush(stdout);
    if (!write_all(STDOUT_FILENO, static_cast<const char*>(ipcshm_pointer(h)) + offset, length)) {
      complain("write(stdout): %s", std::strerror(errno));
      status = kExitFail;
    }
  }
  ipcshm_detach(h);
  return status;
}

int cmd_write(int argc, char** argv) {
  uint64_t offset = 0;
  bool go_on;
  auto ops = parse_options(
      argc, argv, {{"offset", true, 'o'}},
      [&](int, const char* arg) { offset = size_arg(arg, "offset", true); }, &go_on);
  if (!go_on) return kExitOk;
  expect_operands(ops, 1, 1, "ID");
  ipcshm_t* h = nullptr;
  if (int rc = attach_object(ops[0], 0, &h); rc < 0) return library_failure(rc);
  const uint64_t size = ipcshm_size(h);
  const char* id = ops[0].c_str();
  int status = kExitOk;
  if (offset > size) {
    complain("offset %" PRIu64 " is past the end of %s (%" PRIu64 " bytes)", offset, id, size);
    ipcshm_detach(h);
    return kExitFail;
  }
  const uint64_t room = size - offset;
  // A regular file tells its length: refuse what cannot fit before writing.
  struct stat st;
  if (::fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
    off_t pos = ::lseek(STDIN_FILENO, 0, SEEK_CUR);
    if (pos >= 0 && st.st_size > pos && static_cast<uint64_t>(st.st_size - pos) > room) {
      complain("stdin has %" PRIu64 " bytes; only %" PRIu64 " fit in %s after offset %" PRIu64
               " (%" PRIu64 " bytes): nothing written",
               static_cast<uint64_t>(st.st_size - pos), room, id, offset, size);
      ipcshm_detach(h);
      return kExitFail;
    }
  }
  char* p = static_cast<char*>(ipcshm_pointer(h)) + offset;
  uint64_t done = 0;
  for (;;) {
    char extra;
    const bool full = done == room;
    size_t want = full ? 1 : static_cast<size_t>(std::min<uint64_t>(room - done, 1u << 20));
    ssize_t r = ::read(STDIN_FILENO, full ? &extra : p + done, want);
    if (r < 0) {
      if (errno == EINTR) continue;
      complain("read(stdin): %s (%" PRIu64 " bytes written to %s)", std::strerror(errno), done,
               id);
      status = kExitFail;
      break;
    }
    if (r == 0) break;
    if (full) {
      complain("stdin has more than the %" PRIu64 " bytes that fit in %s after offset %" PRIu64
               " (%" PRIu64 " bytes): the first %" PRIu64 " bytes were written",
               room, id, offset, size, done);
      status = kExitFail;
      break;
    }
    done += static_cast<uint64_t>(r);
  }
  ipcshm_detach(h);
  return status;
}

// ---------------------------------------------------------------------------
// gc

const char kGcHelp[] =
    "Remove volatile POSIX objects whose users are all gone (their processes died\n"
    "without detaching), and print 'removed ID' for each. Live objects, persistent\n"
    "objects and System V segments (which the kernel reclaims itself) are left\n"
    "alone. With IDs, only those objects are considered.\n"
    "\n"
    "  --dry-run   print 'would remove ID' for each, and remove nothing\n"
    "\n"
    "An object gc may not open (no read permission) is reported on stderr as\n"
    "skipped; that alone does not fail the command.\n";

// Dead means: volatile (the sticky bit) and no process holds the shared flock
// that every live user holds (ipcshm.h, rule 4). The API cannot tell this without
// reclaiming the object (ipcshm_attach removes a dead one), so --dry-run asks
// the kernel's lock table, /proc/locks, which changes nothing. Where /proc/locks
// cannot be read, it probes with a non-blocking exclusive flock on a fresh
// descriptor, held for an instant and released.
struct HeldLocks {
  bool known = false;
  std::set<std::tuple<unsigned, unsigned, unsigned long long>> inodes;  // major, minor, inode
};

HeldLocks read_flocks() {
  HeldLocks held;
  FILE* f = std::fopen("/proc/locks", "re");
  if (!f) return held;
  char line[256];
  while (std::fgets(line, sizeof line, f)) {
    // "1: FLOCK  ADVISORY  READ 9822 00:1b:240040 0 EOF"; "1: -> FLOCK ..." waits.
    char type[16], dev[64];
    if (std::sscanf(line, "%*d: %15s %*s %*s %*s %63s", type, dev) != 2) continue;
    if (std::strcmp(type, "FLOCK") != 0) continue;
    unsigned major_no, minor_no;
    unsigned long long inode;
    if (std::sscanf(dev, "%x:%x:%llu", &major_no, &minor_no, &inode) == 3)
      held.inodes.emplace(major_no, minor_no, inode);
  }
  held.known = !std::ferror(f);
  std::fclose(f);
  return held;
}

int probe_dead(const std::string& id, const HeldLocks& held, bool* dead) {
  const std::string path = std::string(kShmDir) + id;
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -errno;
  struct stat st;
  int rc = 0;
  if (::fstat(fd, &st) != 0) {
    rc = -errno;
  } else if (!S_ISREG(st.st_mode) || !(st.st_mode & S_ISVTX) || st.st_nlink == 0) {
    *dead = false;
  } else if (held.known) {
    *dead = held.inodes.count({major(st.st_dev), minor(st.st_dev),
                               static_cast<unsigned long long>(st.st_ino)}) == 0;
  } else if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
    *dead = true;
  } else if (errno == EWOULDBLOCK) {
    *dead = false;
  } else {
    rc = -errno;
  }
  ::close(fd);
  return rc;
}

int cmd_gc(int argc, char** argv) {
  bool dry_run = false, go_on;
  auto ops = parse_options(argc, argv, {{"dry-run", false, 'n'}},
                           [&](int, const char*) { dry_run = true; }, &go_on);
  if (!go_on) return kExitOk;
  std::vector<Entry> entries;
  int status = kExitOk;
  if (ops.empty()) {
    if (!list_posix(&entries)) status = kExitFail;
  } else {
    for (const std::string& id : ops) {
      if (id.empty() || id[0] != '/')
        usage_error("gc takes POSIX ids (/name) only, not '%s'", id.c_str());
      Entry e{id, blank_info()};
      if (int rc = info_or_usage(id, &e.info); rc < 0) {
        status = library_failure(rc);
        continue;
      }
      entries.push_back(std::move(e));
    }
  }
  const HeldLocks held = dry_run ? read_flocks() : HeldLocks{};
  for (const Entry& e : entries) {
    if (e.info.kind != IPCSHM_KIND_POSIX || !is_volatile(e.info)) continue;
    const char* id = e.id.c_str();
    if (dry_run) {
      bool dead = false;
      int rc = probe_dead(e.id, held, &dead);
      if (rc == -ENOENT) continue;
      if (rc < 0) {
        complain("%s: skipped: open(\"%s%s\"): %s", id, kShmDir, id, std::strerror(-rc));
        if (rc != -EACCES && rc != -EPERM) status = kExitFail;
        continue;
      }
      if (dead) std::printf("would remove %s\n", printable(e.id).c_str());
      continue;
    }
    // The library reclaims a dead volatile object on attach (-ENOENT: removed);
    // a live one is attached read-only and detached at once.
    ipcshm_t* h = nullptr;
    int rc = ipcshm_attach(id, IPCSHM_READONLY, &h);
    if (rc == -ENOENT) {
      std::printf("removed %s\n", printable(e.id).c_str());
    } else if (rc == -EACCES || rc == -EPERM) {
      complain("%s: skipped: %s", id, ipcshm_last_error());
    } else if (rc < 0) {
      status = library_failure(rc);
    } else {
      ipcshm_detach(h);
    }
  }
  return status;
}

// ---------------------------------------------------------------------------
// main

const Command kCommands[] = {
    {"ls", "ipcshm ls [--posix|--sysv] [--json]", kLsHelp, cmd_ls},
    {"info", "ipcshm info ID [--json]", kInfoHelp, cmd_info},
    {"create", "ipcshm create ID SIZE [--mode MODE] [--persistent]", kCreateHelp, cmd_create},
    {"rm", "ipcshm rm ID...", kRmHelp, cmd_rm},
    {"chmod", "ipcshm chmod ID MODE", kChmodHelp, cmd_chmod},
    {"cat", "ipcshm cat ID [--offset N] [--length N]", kCatHelp, cmd_cat},
    {"write", "ipcshm write ID [--offset N] < FILE", kWriteHelp, cmd_write},
    {"gc", "ipcshm gc [--dry-run] [ID...]", kGcHelp, cmd_gc},
};

const char kMainHelp[] =
    "Usage: ipcshm COMMAND [ARGS]...\n"
    "List, inspect, create, remove, read and write shared memory: POSIX objects\n"
    "(/dev/shm) and System V segments, through libipcshm.\n"
    "\n"
    "Commands:\n"
    "  ls [--posix|--sysv] [--json]      list every object\n"
    "  info ID [--json]                  everything known about one object\n"
    "  create ID SIZE [--mode MODE]      create a persistent object, print its id\n"
    "  rm ID...                          remove objects\n"
    "  chmod ID MODE                     set the permission bits (octal)\n"
    "  cat ID [--offset N] [--length N]  copy the object's bytes to stdout\n"
    "  write ID [--offset N]             copy stdin into the object\n"
    "  gc [--dry-run] [ID...]            remove volatile objects whose users died\n"
    "\n"
    "IDs:\n"
    "  /name         a POSIX object (/nameXXXXXX: a unique name, for create)\n"
    "  key:0x1234    a System V segment by key (also key:4660)\n"
    "  shmid:65538   a System V segment by identifier\n"
    "  private       a new System V segment (create only)\n"
    "\n"
    "Sizes and offsets: 4096, 64K, 1.5G (K, M, G, T, P, E: powers of 1024).\n"
    "Exit status: 0 success, 1 failure (no such object, permission denied, ...),\n"
    "2 bad usage.\n"
    "\n"
    "  -h, --help     this help ('ipcshm COMMAND --help' for a command's)\n"
    "  -V, --version  the versions of the tool and of the library\n";

void print_version() {
  const uint32_t v = ipcshm_version();
  std::printf("ipcshm %s (libipcshm %" PRIu32 ".%" PRIu32 ".%" PRIu32 ")\n", IPCSHM_CLI_VERSION,
              v >> 16, (v >> 8) & 0xff, v & 0xff);
}

int finish(int status) {
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "ipcshm: write(stdout): %s\n", std::strerror(errno));
    return status == kExitOk ? kExitFail : status;
  }
  return status;
}

int run(int argc, char** argv) {
  if (argc < 2) {
    std::fputs("ipcshm: missing command\nTry 'ipcshm --help' for more information.\n", stderr);
    return kExitUsage;
  }
  const std::string first = argv[1];
  if (first == "-h" || first == "--help" || first == "help") {
    if (first == "help" && argc > 2) {
      for (const Command& c : kCommands)
        if (c.name == std::string(argv[2])) {
          std::printf("Usage: %s\n%s", c.synopsis, c.help);
          return kExitOk;
        }
      std::fprintf(stderr, "ipcshm: unknown command '%s'\nTry 'ipcshm --help' for more information.\n",
                   argv[2]);
      return kExitUsage;
    }
    std::fputs(kMainHelp, stdout);
    return kExitOk;
  }
  if (first == "-V" || first == "--version") {
    print_version();
    return kExitOk;
  }
  for (const Command& c : kCommands) {
    if (first != c.name) continue;
    g_command = &c;
    try {
      return c.run(argc - 1, argv + 1);
    } catch (const UsageError& e) {
      std::fflush(stdout);
      std::fprintf(stderr,
                   "ipcshm: %s: %s\nUsage: %s\nTry 'ipcshm %s --help' for more information.\n",
                   c.name, e.message.c_str(), c.synopsis, c.name);
      return kExitUsage;
    }
  }
  if (first[0] == '-')
    std::fprintf(stderr, "ipcshm: unknown option '%s'\n", first.c_str());
  else
    std::fprintf(stderr, "ipcshm: unknown command '%s'\n", first.c_str());
  std::fputs("Try 'ipcshm --help' for more information.\n", stderr);
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) { return finish(run(argc, argv)); }
