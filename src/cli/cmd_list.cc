// The commands that show objects: ls, info, fuser.
#include <cstdio>

#include "cli.hpp"
#include "columns.hpp"
#include "commands.hpp"
#include "liveness.hpp"
#include "objects.hpp"
#include "output.hpp"
#include "proc_scan.hpp"

namespace ipcshm_cli {
namespace {

enum : int { kOptPosix = 400, kOptSysv };

// Resolves the ids given on the command line; a failure is reported and makes
// *ok false. Names that are not objects are kept only if keep_non_objects.
std::vector<Object> resolve_all(const std::vector<std::string>& ids, bool keep_non_objects,
                                bool* ok) {
  std::vector<Object> objects;
  for (const std::string& id : ids) {
    Object o;
    std::string why;
    if (resolve(id, &o, &why) < 0) {
      complain("%s", why.c_str());
      *ok = false;
    } else if (o.kind == 0 && !keep_non_objects) {
      complain("%s", not_an_object(o).c_str());
      *ok = false;
    } else {
      objects.push_back(std::move(o));
    }
  }
  return objects;
}

bool has(const std::vector<size_t>& cols, size_t c) {
  for (size_t x : cols)
    if (x == c) return true;
  return false;
}

// Prints objects in a table of the given columns.
void print_objects(const std::vector<Object>& objects, const std::vector<size_t>& cols,
                   const OutputOptions& opts) {
  const LockTable locks = read_locks();
  HolderScan scan;
  const bool scanned = needs_holder_scan(cols);
  if (scanned) scan = scan_for(objects, locks);
  const CellContext ctx{opts, locks, scanned ? &scan : nullptr};
  Table table(opts, "sharedmemory", object_columns(), cols);
  for (const Object& o : objects) {
    std::vector<Value> cells;
    for (size_t c : cols) {
      Value v = object_cell(c, o, ctx);
      // The label view leaves out what says nothing: no hidden holders.
      if (opts.mode == OutputMode::kPretty && c == kColHidden && v.number == 0) v = Value::none();
      cells.push_back(std::move(v));
    }
    table.add_row(cells);
  }
  table.print();
  if (scanned && has(cols, kColHolders) && !has(cols, kColHidden)) note_hidden(objects, scan);
}

void default_time_format(OutputOptions* opts) {
  if (!opts->time_given)
    opts->time_format = opts->mode == OutputMode::kPretty ? TimeFormat::kFull : TimeFormat::kShort;
}

}  // namespace

// ---------------------------------------------------------------------------
// ls

std::string ls_help() {
  return "List every POSIX shared memory object (the files of /dev/shm) and every System V\n"
         "segment (/proc/sysvipc/shm), or the objects named: POSIX objects sorted by\n"
         "name, then System V segments by identifier. Names in /dev/shm that are not\n"
         "objects (a FIFO, a directory, a symbolic link squatting a name) are listed too,\n"
         "with the STATUS not-shm; POSIX semaphores (sem.*) are not. Channels are POSIX\n"
         "objects of the KIND channel (-C shows their slots, fill level and ends; so does\n"
         "'ipcshm info'). Reading the list never maps, locks or reclaims an object (a\n"
         "channel's header is read, not mapped, and its ends' locks are asked about, not\n"
         "taken).\n"
         "\n"
         "  -M, --posix             POSIX objects only\n"
         "  -m, --sysv              System V segments only\n" +
         output_options_help(true) +
         "\n"
         "Default columns: KIND ID KEY PERMS OWNER SIZE NATTCH STATUS CTIME HOLDERS; -C\n"
         "adds SLOTSIZE SLOTS QUEUED SENDER RECEIVER before HOLDERS.\n"
         "Columns:\n" +
         columns_help(object_columns()) +
         "\n"
         "STATUS of a volatile POSIX object: live (a user holds its shared flock),\n"
         "orphaned (no lock: its users all died; 'ipcshm gc' removes it), exclusive (held\n"
         "only with an exclusive flock), unknown (no lock in sight, but /proc/locks hides\n"
         "locks from outside this pid namespace); empty (size 0); bad (a channel whose\n"
         "indices its ends cannot have made: its header was overwritten). System V, as\n"
         "lsipc: dest (removed, still attached: destroyed at its last detach), locked,\n"
         "hugetlb, noreserve.\n"
         "SENDER and RECEIVER of a channel: live (an end holds the role), never (no end\n"
         "ever took it), closed or died (vacant: its last end closed, or its process died\n"
         "holding it; a new end may take it). A channel whose header the library rejects\n"
         "(damaged, or of another layout version) or that the caller may not read is shown\n"
         "as a posix object.\n"
         "HOLDERS of other users' processes are shown only to root (and, for a volatile\n"
         "object, to all by their flock). HIDDEN counts the holders the caller could not\n"
         "see: System V attachments by processes it may not inspect; for POSIX objects,\n"
         "the processes it may not inspect, any of which may hold it. Without HIDDEN, a\n"
         "note on stderr counts them.\n";
}

int cmd_ls(int argc, char** argv) {
  bool posix = false, sysv = false, go_on;
  OutputOptions opts;
  std::vector<Option> specs = output_option_specs(true);
  specs.push_back({"posix", false, kOptPosix, 'M'});
  specs.push_back({"sysv", false, kOptSysv, 'm'});
  auto ops = parse_options(
      argc, argv, specs,
      [&](int key, const char* arg) {
        if (key == kOptPosix) posix = true;
        else if (key == kOptSysv) sysv = true;
        else take_output_option(key, arg, &opts);
      },
      &go_on);
  if (!go_on) return kExitOk;
  default_time_format(&opts);
  const std::vector<size_t> cols =
      select_columns(object_columns(), default_object_columns(opts), opts);
  bool ok = true;
  std::vector<Object> objects;
  if (!ops.empty()) {
    if (posix || sysv) usage_error("--posix and --sysv select what is listed, not named objects");
    objects = resolve_all(ops, true, &ok);
  } else {
    if (!posix && !sysv) posix = sysv = true;
    if (posix) ok &= list_posix(&objects);
    if (sysv) ok &= list_sysv(&objects);
  }
  print_objects(objects, cols, opts);
  return ok ? kExitOk : kExitFail;
}

// ---------------------------------------------------------------------------
// info

std::string info_help() {
  return "Show one object, or each object named, with the fields that mean something for\n"
         "its kind, one 'Label: value' line each (lsipc --id's view): POSIX objects have\n"
         "no key, creator, attach count or pids; System V segments have all of these;\n"
         "channels have their slot size and count, fill level and ends as well.\n"
         "Holders are listed one per line: PID, command line, and what the process does\n"
         "with the object (see 'ipcshm fuser'). Read permission is not needed: what\n"
         "/proc/sysvipc/shm shows of a segment, everyone may see. ID is /name,\n"
         "key:0x1234, key:4660 or shmid:N.\n"
         "\n"
         "With -J, -r, -e, -n or -l, the same fields as a table, as 'ipcshm ls' prints it\n"
         "(and -o chooses them).\n"
         "\n" +
         output_options_help(false);
}

namespace {

// The command line of a command that takes output options and one or more ids
// (info, fuser): the ids; *go_on is false after --help.
std::vector<std::string> parse_id_command(int argc, char** argv, OutputOptions* opts,
                                          bool* go_on) {
  auto ops = parse_options(
      argc, argv, output_option_specs(false),
      [&](int key, const char* arg) { take_output_option(key, arg, opts); }, go_on);
  if (*go_on) expect_operands(ops, 1, SIZE_MAX, "ID");
  return ops;
}

}  // namespace

int cmd_info(int argc, char** argv) {
  bool go_on;
  OutputOptions opts;
  auto ops = parse_id_command(argc, argv, &opts, &go_on);
  if (!go_on) return kExitOk;
  if (!opts.mode_given) opts.mode = OutputMode::kPretty;
  default_time_format(&opts);
  bool ok = true;
  std::vector<Object> objects = resolve_all(ops, false, &ok);
  const bool chosen = opts.output_all || !opts.outputs.empty();
  if (opts.mode == OutputMode::kPretty) {
    // One view per object, with its kind's fields.
    for (size_t i = 0; i < objects.size(); ++i) {
      if (i > 0) std::fputc('\n', stdout);
      const auto cols = select_columns(object_columns(), info_columns(objects[i]), opts);
      print_objects({objects[i]}, cols, opts);
    }
  } else if (!objects.empty()) {
    // One table: the fields of the kinds named (System V's include POSIX's but MTIME).
    // A channel's fields when any is one (after SIZE).
    bool posix = false, sysv = false, channels = false;
    for (const Object& o : objects) {
      (o.kind == IPCSHM_KIND_SYSV ? sysv : posix) = true;
      channels |= o.channel;
    }
    Object model = objects[0];
    model.channel = channels;
    std::vector<size_t> defaults = info_columns(model);
    if (posix && sysv) {
      Object s;
      s.kind = IPCSHM_KIND_SYSV;
      defaults = info_columns(s);
      for (auto it = defaults.begin(); it != defaults.end(); ++it)
        if (*it == kColCtime) {
          defaults.insert(it, kColMtime);
          break;
        }
      if (channels)
        for (auto it = defaults.begin(); it != defaults.end(); ++it)
          if (*it == kColSize) {
            defaults.insert(it + 1, {kColSlotSize, kColSlots, kColQueued, kColSender,
                                     kColReceiver});
            break;
          }
    }
    print_objects(objects, chosen ? select_columns(object_columns(), defaults, opts) : defaults,
                  opts);
  }
  return ok ? kExitOk : kExitFail;
}

// ---------------------------------------------------------------------------
// fuser

std::string fuser_help() {
  return "List the processes that use each object: those that map it (System V: attach\n"
         "it), hold a descriptor of it, or hold its flock (every user of a volatile POSIX\n"
         "object does), with their commands. Other users' processes can be inspected only\n"
         "by root: a note on stderr counts those that could not be, and the System V\n"
         "attachments they hold. The objects are not opened or locked.\n"
         "\n" +
         output_options_help(false) +
         "\n"
         "Columns:\n" +
         columns_help(holder_columns());
}

int cmd_fuser(int argc, char** argv) {
  bool go_on;
  OutputOptions opts;
  auto ops = parse_id_command(argc, argv, &opts, &go_on);
  if (!go_on) return kExitOk;
  default_time_format(&opts);
  const auto cols = select_columns(holder_columns(), default_holder_columns(), opts);
  bool ok = true;
  std::vector<Object> objects = resolve_all(ops, true, &ok);
  const LockTable locks = read_locks();
  const HolderScan scan = scan_for(objects, locks);
  Table table(opts, "holders", holder_columns(), cols);
  for (const Object& o : objects)
    for (const Holder& h : holders_of(scan, o)) {
      std::vector<Value> cells;
      for (size_t c : cols) cells.push_back(holder_cell(c, o, h));
      table.add_row(cells);
    }
  table.print();
  note_hidden(objects, scan);
  return ok ? kExitOk : kExitFail;
}

}  // namespace ipcshm_cli
