// How names, sizes, times, permissions and users are spelled for terminals and JSON.
#include "text.hpp"

#include <grp.h>
#include <langinfo.h>
#include <pwd.h>
#include <sys/time.h>
#include <time.h>
#include <wctype.h>

#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "cli.hpp"

namespace ipcshm_cli {
namespace {

// The length of the well-formed UTF-8 sequence at p[i] (of n bytes) and its
// code point, or 0 if it is not one (overlong, surrogate, past U+10FFFF, cut).
size_t utf8_decode(const unsigned char* p, size_t i, size_t n, char32_t* cp) {
  const unsigned char c = p[i];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  const size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
                     : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (len == 0 || i + len > n) return 0;
  char32_t v = c & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
  for (size_t k = 1; k < len; ++k) {
    if ((p[i + k] & 0xc0) != 0x80) return 0;
    v = (v << 6) | (p[i + k] & 0x3f);
  }
  if ((len == 3 && (v < 0x800 || (v >= 0xd800 && v <= 0xdfff))) ||
      (len == 4 && (v < 0x10000 || v > 0x10ffff)))
    return 0;
  *cp = v;
  return len;
}

// Characters that reorder or hide text on a terminal although glibc calls them
// printable: bidi embeddings, overrides and isolates, direction marks,
// zero-width and line/paragraph separators, the BOM, interlinear annotations.
bool is_invisible_control(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x180e ||
         (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
         (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb);
}

bool utf8_locale() {
  static const bool utf8 = std::strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
  return utf8;
}

void append_hex(std::string* out, const unsigned char* p, size_t len) {
  for (size_t k = 0; k < len; ++k) *out += format("\\x%02x", p[k]);
}

}  // namespace

std::string terminal_text(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  std::string out;
  out.reserve(n);
  for (size_t i = 0; i < n;) {
    if (p[i] == '\\' && i + 1 < n && p[i + 1] == 'x') {
      out += "\\x5c";
      ++i;
      continue;
    }
    char32_t cp = 0;
    const size_t len = utf8_decode(p, i, n, &cp);
    if (len == 0) {
      append_hex(&out, p + i, 1);
      ++i;
      continue;
    }
    bool safe;
    if (cp < 0x80) safe = cp >= 0x20 && cp != 0x7f;
    else safe = utf8_locale() && !is_invisible_control(cp) && iswprint(static_cast<wint_t>(cp));
    if (safe) out.append(s.substr(i, len));
    else append_hex(&out, p + i, len);
    i += len;
  }
  return out;
}

std::string json_string(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  std::string out = "\"";
  for (size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    char32_t cp = 0;
    const size_t len = utf8_decode(p, i, n, &cp);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (len == 0) {
      out += format("\\udc%02x", c);  // not UTF-8: surrogateescape
      i += 1;
      continue;
    } else if (cp < 0x20 || cp == 0x7f || is_invisible_control(cp)) {
      out += format("\\u%04x", static_cast<unsigned>(cp));
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out + "\"";
}

std::string human_size(uint64_t bytes) {
  // util-linux 2.38's size_to_human_string(SIZE_SUFFIX_1LETTER), which lsipc uses.
  int exp = 10;
  for (; exp <= 60; exp += 10)
    if (bytes < (1ULL << exp)) break;
  exp -= 10;
  const char unit = "BKMGTPE"[exp / 10];
  uint64_t whole = exp ? bytes >> exp : bytes;
  uint64_t frac = exp ? bytes & ((1ULL << exp) - 1) : 0;
  if (frac) {
    // three digits after the point, then rounded to one
    if (frac >= UINT64_MAX / 1000) frac = ((frac / 1024) * 1000) / (1ULL << (exp - 10));
    else frac = (frac * 1000) / (1ULL << exp);
    frac = ((frac + 50) / 100) * 10;
    if (frac == 100) {
      ++whole;
      frac = 0;
    }
  }
  if (!frac) return format("%llu%c", static_cast<unsigned long long>(whole), unit);
  const struct lconv* lc = std::localeconv();
  const char* point = lc && lc->decimal_point && *lc->decimal_point ? lc->decimal_point : ".";
  return format("%llu%s%llu%c", static_cast<unsigned long long>(whole), point,
                static_cast<unsigned long long>(frac / 10), unit);
}

bool parse_time_format(const char* text, TimeFormat* out) {
  if (std::strcmp(text, "short") == 0) *out = TimeFormat::kShort;
  else if (std::strcmp(text, "full") == 0) *out = TimeFormat::kFull;
  else if (std::strcmp(text, "iso") == 0) *out = TimeFormat::kIso;
  else return false;
  return true;
}

std::string time_text(int64_t seconds, TimeFormat format_) {
  const time_t t = static_cast<time_t>(seconds);
  struct tm tm;
  if (!localtime_r(&t, &tm)) return std::to_string(seconds);
  char buf[64];
  switch (format_) {
    case TimeFormat::kShort: {
      // util-linux's strtime_short: the time today, the day this year, else the date.
      static const time_t now = ::time(nullptr);
      struct tm today;
      localtime_r(&now, &today);
      if (tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday)
        return format("%02d:%02d", tm.tm_hour, tm.tm_min);
      const char* fmt = tm.tm_year == today.tm_year ? "%b%d" : "%Y-%b%d";
      if (::strftime(buf, sizeof buf, fmt, &tm) == 0) return std::to_string(seconds);
      return buf;
    }
    case TimeFormat::kFull: {
      // asctime, without its newline
      if (!asctime_r(&tm, buf)) return std::to_string(seconds);
      std::string text = buf;
      if (!text.empty() && text.back() == '\n') text.pop_back();
      return text;
    }
    case TimeFormat::kIso: {
      if (::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        return std::to_string(seconds);
      const long minutes = tm.tm_gmtoff / 60;
      return format("%s%+03ld:%02ld", buf, minutes / 60, std::labs(minutes % 60));
    }
  }
  return std::to_string(seconds);
}

std::string perms_text(uint32_t mode, bool numeric) {
  mode &= 0777;
  if (numeric) return format("%#o", mode);
  std::string s(9, '-');
  const char* letters = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i)
    if (mode & (0400u >> i)) s[static_cast<size_t>(i)] = letters[i];
  return s;
}

namespace {

template <typename Lookup>
std::string cached_name(std::map<uint32_t, std::string>& cache, uint32_t id, Lookup lookup) {
  auto it = cache.find(id);
  if (it != cache.end()) return it->second;
  const char* found = lookup(id);
  return cache.emplace(id, found ? found : "").first->second;
}

}  // namespace

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

}  // namespace ipcshm_cli
