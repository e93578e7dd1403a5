// Command lines of the ipcshm tool: commands, options, operands, numbers.
#include "options.hpp"

#include <getopt.h>

#include <bsd/libutil.h>
#include <bsd/stdlib.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cli.hpp"

namespace ipcshm_cli {

const Command* g_command = nullptr;

std::vector<std::string> parse_options(int argc, char** argv, const std::vector<Option>& opts,
                                       const std::function<void(int, const char*)>& on_option,
                                       bool* go_on) {
  std::vector<struct option> longs;
  std::string shorts = ":h";
  for (const Option& o : opts) {
    longs.push_back({o.name, o.has_arg ? required_argument : no_argument, nullptr,
                     o.short_name ? o.short_name : o.key});
    if (o.short_name) {
      shorts += o.short_name;
      if (o.has_arg) shorts += ':';
    }
  }
  longs.push_back({"help", no_argument, nullptr, 'h'});
  longs.push_back({nullptr, 0, nullptr, 0});
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, shorts.c_str(), longs.data(), nullptr)) != -1) {
    if (c == 'h') {
      std::printf("Usage: %s\n%s", g_command->synopsis, g_command->help().c_str());
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
    for (const Option& o : opts)
      if (c == (o.short_name ? o.short_name : o.key)) on_option(o.key, optarg);
  }
  *go_on = true;
  return std::vector<std::string>(argv + optind, argv + argc);
}

void expect_operands(const std::vector<std::string>& ops, size_t min, size_t max,
                     const char* what) {
  if (ops.size() < min) usage_error("missing %s", what);
  if (ops.size() > max) usage_error("unexpected argument '%s'", ops[max].c_str());
}

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

}  // namespace ipcshm_cli
