// Parsing of ids, through the public API only (ipcshm_info, ipcshm_attach,
// ipcshm_create, ipcshm_remove, ipcshm_chmod): the valid forms name the objects
// they should, and every malformed id is -EINVAL with a message that names the
// rule it broke, and creates nothing.
#include <gtest/gtest.h>

#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace {

using testutil::id_of;
using testutil::fresh_info;
using testutil::HandleGuard;
using testutil::key_id;
using testutil::posix_exists;
using testutil::RemoveGuard;
using testutil::unique_key;
using testutil::unique_name;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// A POSIX id of exactly `total` bytes (leading '/' included) that starts with
// this run's prefix, so that a leak would be found.
std::string name_of_length(size_t total) {
  std::string id = unique_name("len") + "-";
  if (id.size() < total) id.append(total - id.size(), 'n');
  return id.substr(0, total);
}

// ---------------------------------------------------------------------------
// Valid forms.

TEST(IdsValid, OneByteName) {
  // "/a" itself if it is free, else another one-byte name that is.
  std::string id;
  for (char c : std::string("abcdefghijklmnopqrstuvwxyz0123456789")) {
    std::string candidate = std::string("/") + c;
    if (!posix_exists(candidate)) {
      id = candidate;
      break;
    }
  }
  if (id.empty()) GTEST_SKIP() << "every one-byte name is taken";
  RemoveGuard rg(id);
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create(id.c_str(), 64, 0600, 0, h.out())) << ipcshm_last_error();
  EXPECT_EQ(id, id_of(h.get()));
  ipcshm_info_t info = fresh_info();
  EXPECT_EQ(0, ipcshm_info(id.c_str(), &info)) << ipcshm_last_error();
  EXPECT_EQ(uint32_t{IPCSHM_KIND_POSIX}, info.kind);
}

TEST(IdsValid, NameOf255BytesAfterTheSlash) {
  const std::string id = name_of_length(256);
  ASSERT_EQ(255u, id.size() - 1);
  RemoveGuard rg(id);
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create(id.c_str(), 64, 0600, 0, h.out())) << ipcshm_last_error();
  EXPECT_EQ(id, id_of(h.get()));
  EXPECT_TRUE(posix_exists(id));
  ipcshm_info_t info = fresh_info();
  EXPECT_EQ(0, ipcshm_info(id.c_str(), &info)) << ipcshm_last_error();
  HandleGuard h2;
  EXPECT_EQ(0, ipcshm_attach(id.c_str(), 0, h2.out())) << ipcshm_last_error();
  EXPECT_EQ(0, ipcshm_chmod(id.c_str(), 0640)) << ipcshm_last_error();
}

TEST(IdsValid, ValidButMissingIdsAreEnoentNotEinval) {
  const int32_t key = unique_key();
  const std::vector<std::string> ids = {
      unique_name("absent"),
      name_of_length(256),
      key_id(key),
      "key:" + std::to_string(key),
  };
  for (const std::string& id : ids) {
    ipcshm_info_t info = fresh_info();
    EXPECT_EQ(-ENOENT, ipcshm_info(id.c_str(), &info)) << id << ": " << ipcshm_last_error();
    HandleGuard h;
    EXPECT_EQ(-ENOENT, ipcshm_attach(id.c_str(), 0, h.out())) << id;
    EXPECT_EQ(0, ipcshm_remove(id.c_str())) << id << ": " << ipcshm_last_error();
  }
}

// The ends of the decimal range are keys, and each names the segment of its
// hex spelling: 2^32-1 and -1 are 0xffffffff, -2^31 and 2^31 are 0x80000000.
TEST(IdsValid, DecimalKeysAtTheEndsOfTheRangeNameTheirHexKey) {
  struct Alias {
    int32_t key;
    std::vector<std::string> spellings;
  };
  const std::vector<Alias> aliases = {
      {-1, {"key:-1", "key:4294967295", "key:0xffffffff", "key:0xFFFFFFFF"}},
      {INT32_MIN, {"key:-2147483648", "key:2147483648", "key:0x80000000"}},
      {INT32_MAX, {"key:2147483647", "key:0x7fffffff"}},
      {1, {"key:1", "key:0x1", "key:0x00000001"}},
  };
  int checked = 0;
  for (const Alias& a : aliases) {
    if (shmget(a.key, 0, 0) >= 0 || errno != ENOENT) continue;  // in use here
    RemoveGuard rg(a.spellings.front());
    HandleGuard h;
    ASSERT_EQ(1, ipcshm_create(a.spellings.front().c_str(), 4096, 0600, IPCSHM_PERSISTENT,
                               h.out()))
        << a.spellings.front() << ": " << ipcshm_last_error();
    for (const std::string& id : a.spellings) {
      ipcshm_info_t info = fresh_info();
      ASSERT_EQ(0, ipcshm_info(id.c_str(), &info)) << id << ": " << ipcshm_last_error();
      EXPECT_EQ(a.key, info.key) << id;
      EXPECT_EQ("shmid:" + std::to_string(info.shmid), id_of(h.get())) << id;
    }
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "every key of the table is in use on this machine";
}

TEST(IdsValid, HexAndDecimalKeysNameTheSameSegment) {
  // key 0x1234 == 4660, as the header's example says, if that key is free here.
  std::vector<int32_t> keys;
  if (shmget(0x1234, 0, 0) < 0 && errno == ENOENT) keys.push_back(0x1234);
  keys.push_back(unique_key());
  for (int32_t key : keys) {
    char hex[32];
    std::snprintf(hex, sizeof hex, "key:0x%x", static_cast<unsigned>(key));
    const std::string dec = "key:" + std::to_string(key);
    if (key == 0x1234) {
      EXPECT_STREQ("key:0x1234", hex);
      EXPECT_EQ("key:4660", dec);
    }
    // Create through one form, look up through the other, and the other way round.
    for (int way = 0; way < 2; ++way) {
      const std::string& create_as = way == 0 ? std::string(hex) : dec;
      const std::string& ask_as = way == 0 ? dec : std::string(hex);
      RemoveGuard rg(hex);
      HandleGuard h;
      ASSERT_EQ(1, ipcshm_create(create_as.c_str(), 4096, 0600, IPCSHM_PERSISTENT, h.out()))
          << create_as << ": " << ipcshm_last_error();
      RemoveGuard rg2(id_of(h.get()));
      ipcshm_info_t info = fresh_info();
      ASSERT_EQ(0, ipcshm_info(ask_as.c_str(), &info)) << ask_as << ": " << ipcshm_last_error();
      EXPECT_EQ(key, info.key);
      EXPECT_EQ("shmid:" + std::to_string(info.shmid), id_of(h.get()));
      EXPECT_EQ(shmget(key, 0, 0), info.shmid);
      HandleGuard h2;
      ASSERT_EQ(0, ipcshm_attach(ask_as.c_str(), 0, h2.out())) << ipcshm_last_error();
      EXPECT_EQ(id_of(h.get()), id_of(h2.get()));
      EXPECT_EQ(0, ipcshm_remove(ask_as.c_str())) << ipcshm_last_error();
      EXPECT_GT(0, shmget(key, 0, 0));
    }
  }
}

TEST(IdsValid, PrivateCreatesButDoesNotAttach) {
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create("private", 4096, 0600, 0, h.out())) << ipcshm_last_error();
  RemoveGuard rg(id_of(h.get()));
  EXPECT_EQ(0u, id_of(h.get()).rfind("shmid:", 0)) << id_of(h.get());

  HandleGuard h2;
  EXPECT_EQ(-EINVAL, ipcshm_attach("private", 0, h2.out()));
  EXPECT_EQ(nullptr, h2.get());
  EXPECT_STRNE("", ipcshm_last_error());
}

TEST(IdsValid, ShmidAttachesButDoesNotCreate) {
  HandleGuard h;
  ASSERT_EQ(1, ipcshm_create("private", 4096, 0600, IPCSHM_PERSISTENT, h.out()))
      << ipcshm_last_error();
  const std::string id = id_of(h.get());
  RemoveGuard rg(id);
  ASSERT_EQ(0u, id.rfind("shmid:", 0)) << id;
  static_cast<unsigned char*>(ipcshm_pointer(h.get()))[0] = 0x5c;

  HandleGuard h2;
  ASSERT_EQ(0, ipcshm_attach(id.c_str(), 0, h2.out())) << ipcshm_last_error();
  EXPECT_EQ(id, id_of(h2.get()));
  EXPECT_EQ(0x5c, static_cast<unsigned char*>(ipcshm_pointer(h2.get()))[0]);

  HandleGuard h3;
  EXPECT_EQ(-EINVAL, ipcshm_create(id.c_str(), 4096, 0600, 0, h3.out()));
  EXPECT_EQ(nullptr, h3.get());
  EXPECT_STRNE("", ipcshm_last_error());
  HandleGuard h4;
  EXPECT_EQ(-EINVAL,
            ipcshm_create(id.c_str(), 4096, 0600, IPCSHM_OPEN_OR_CREATE, h4.out()));
  EXPECT_EQ(nullptr, h4.get());

  ipcshm_info_t info = fresh_info();
  ASSERT_EQ(0, ipcshm_info(id.c_str(), &info)) << ipcshm_last_error();
  EXPECT_EQ(2u, info.nattch);
}

// ---------------------------------------------------------------------------
// Malformed ids.

struct BadId {
  std::string id;
  std::vector<std::string> hints;  // the message mentions one of these (any case)
};

std::vector<BadId> bad_ids() {
  const std::vector<std::string> forms = {"expected", "/name", "key:", "shmid:"};
  const std::vector<std::string> name = {"name", "posix"};
  const std::vector<std::string> key = {"key"};
  const std::vector<std::string> shmid = {"shmid", "identifier"};
  std::string too_long = name_of_length(257);  // 256 bytes after the '/'
  return {
      {"", forms},
      {"a", forms},
      {"/", name},
      {"//a", name},
      {"/a/b", name},
      {"/.", name},
      {"/..", name},
      {too_long, name},
      {"key:", key},
      {"key:zz", key},
      {"key:0x", key},
      {"key:0", {"key", "private"}},
      {"key:0x1ffffffff", key},
      {"key:0x100000000", key},       // 2^32: nine hex digits
      {"key:0xfffffffff", key},
      {"key:0x000000001", key},       // nine digits, even if zeros lead
      // The decimal range is int32's and uint32's (-2^31 .. 2^32-1): one past
      // either end would wrap to another key (2^32 to 0, IPC_PRIVATE; 2^32+1 to 1).
      {"key:4294967296", key},
      {"key:4294967297", key},
      {"key:-2147483649", key},
      {"key:99999999999", key},
      {"key:-99999999999", key},
      {"key:18446744073709551616", key},
      {"key:-", key},
      {"key: 4660", key},
      {"key:+4660", key},
      {"key:\t4660", key},
      {"key:-x", key},
      {"shmid:-1", shmid},
      {"shmid: 0", shmid},
      {"shmid:+0", shmid},
      {"shmid:\n0", shmid},
      {"shmid:abc", shmid},
      {"shmid:", shmid},
      {"shmid:99999999999", shmid},
      {"memfd:", {"memfd"}},
      {"memfd:" + std::string(250, 'm'), {"1..249"}},
      {"PRIVATE", forms},
      {" /a", forms},
  };
}

// The failure was -EINVAL with a message that says what was wrong.
void expect_rejected(const BadId& bad, int rc, const char* call) {
  // Appended piece by piece: GCC 12 at -O3 warns falsely (-Wrestrict) on
  // "literal" + std::string temporaries.
  std::string shown = "\"";
  shown.append(bad.id, 0, 40).append("\" via ").append(call);
  EXPECT_EQ(-EINVAL, rc) << shown;
  const char* msg = ipcshm_last_error();
  ASSERT_NE(nullptr, msg) << shown;
  const std::string text = msg;
  EXPECT_NE("", text) << shown;
  EXPECT_NE(std::string(std::strerror(EINVAL)), text) << shown << ": only the errno text";
  const std::string low = lower(text);
  bool hinted = false;
  for (const std::string& h : bad.hints) hinted = hinted || low.find(lower(h)) != std::string::npos;
  EXPECT_TRUE(hinted) << shown << ": message \"" << text << "\" names no rule";
}

TEST(IdsInvalid, EveryCallRejectsMalformedIds) {
  for (const BadId& bad : bad_ids()) {
    const char* id = bad.id.c_str();
    SCOPED_TRACE("id \"" + bad.id.substr(0, 40) + "\"");

    ipcshm_info_t info = fresh_info();
    expect_rejected(bad, ipcshm_info(id, &info), "ipcshm_info");

    HandleGuard a;
    expect_rejected(bad, ipcshm_attach(id, 0, a.out()), "ipcshm_attach");
    EXPECT_EQ(nullptr, a.get());

    HandleGuard c;
    expect_rejected(bad, ipcshm_create(id, 4096, 0600, 0, c.out()), "ipcshm_create");
    EXPECT_EQ(nullptr, c.get());

    HandleGuard c2;
    expect_rejected(bad,
                    ipcshm_create(id, 4096, 0600, IPCSHM_PERSISTENT | IPCSHM_OPEN_OR_CREATE,
                                  c2.out()),
                    "ipcshm_create(persistent, open-or-create)");
    EXPECT_EQ(nullptr, c2.get());

    expect_rejected(bad, ipcshm_remove(id), "ipcshm_remove");
    expect_rejected(bad, ipcshm_chmod(id, 0600), "ipcshm_chmod");
  }
}

TEST(IdsInvalid, NothingIsCreatedForMalformedPosixNames) {
  // What a sloppy parser might have created instead.
  const std::string too_long = name_of_length(257);
  for (const std::string& id : {too_long, std::string(" /a")}) {
    HandleGuard h;
    EXPECT_EQ(-EINVAL, ipcshm_create(id.c_str(), 4096, 0600, IPCSHM_PERSISTENT, h.out()));
  }
  EXPECT_FALSE(posix_exists(too_long.substr(0, 256)));
  EXPECT_FALSE(posix_exists(too_long));
  EXPECT_TRUE(testutil::leaked_posix().empty());
}

TEST(IdsInvalid, KeyZeroIsNotPrivate) {
  // "key:0" would be IPC_PRIVATE: refused (say "private"), and no segment is made.
  const size_t before = testutil::leaked_sysv(getpid()).size();
  for (const char* id : {"key:0", "key:0x0", "key:0x00000000"}) {
    HandleGuard h;
    EXPECT_EQ(-EINVAL, ipcshm_create(id, 4096, 0600, IPCSHM_PERSISTENT, h.out())) << id;
    EXPECT_EQ(nullptr, h.get());
  }
  EXPECT_EQ(before, testutil::leaked_sysv(getpid()).size());
}

}  // namespace
