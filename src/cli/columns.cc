// The columns of ls, info and fuser, and what each shows of an object or holder.
#include "columns.hpp"

#include <libsmartcols.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>

#include "cli.hpp"

namespace ipcshm_cli {

const std::vector<ColumnSpec>& object_columns() {
  constexpr int R = SCOLS_FL_RIGHT;
  static const std::vector<ColumnSpec> columns = {
      {"KIND", "Kind", "posix, channel (a POSIX object), sysv, or what squats a name: fifo, ...",
       1, 0},
      {"ID", "Id", "the id the other commands take: /name, shmid:N", 1, 0},
      {"KEY", "Key", "System V key", 1, 0},
      {"SHMID", "Shmid", "System V identifier (lsipc's ID)", 1, R},
      {"OWNER", "Owner", "owner's user name or UID", 1, R},
      {"PERMS", "Permissions", "permissions", 1, R},
      {"UID", "UID", "owner's user ID", 1, R},
      {"USER", "User name", "owner's user name", 1, 0},
      {"GID", "GID", "group ID", 1, R},
      {"GROUP", "Group name", "group name", 1, 0},
      {"CUID", "Creator UID", "System V creator's user ID", 1, R},
      {"CUSER", "Creator user", "System V creator's user name", 1, 0},
      {"CGID", "Creator GID", "System V creator's group ID", 1, R},
      {"CGROUP", "Creator group", "System V creator's group name", 1, 0},
      {"SIZE", "Size", "size (in bytes with --bytes)", 1, R},
      {"NATTCH", "Attached processes", "System V attachments", 1, R},
      {"STATUS", "Status", "live, orphaned, exclusive, unknown, empty; dest, locked, ...", 1, 0},
      {"VOLATILE", "Volatile", "destroyed with its last user (yes) or persistent (no)", 1, 0},
      {"CTIME", "Last change", "time of the last change", 1, R},
      {"MTIME", "Last modification", "POSIX: time of the last modification", 1, R},
      {"ATTACH", "Attach time", "System V: time of the last attach", 1, R},
      {"DETACH", "Detach time", "System V: time of the last detach", 1, R},
      {"CPID", "Creator PID", "System V: PID of the creator", 1, R},
      {"LPID", "Last user PID", "System V: PID of the last attach or detach", 1, R},
      {"COMMAND", "Creator command", "System V: the creator's command line, while it runs", 0,
       SCOLS_FL_TRUNC},
      {"HOLDERS", "Holders", "PIDs of the processes that map it, hold a descriptor or its lock",
       1, 0},
      {"HIDDEN", "Hidden holders", "holders the caller could not see (see below)", 1, R},
      {"SLOTSIZE", "Slot size", "channel: the longest message (in bytes with --bytes)", 1, R},
      {"SLOTS", "Slots", "channel: how many messages it holds at most", 1, R},
      {"QUEUED", "Queued messages", "channel: messages sent and not yet received", 1, R},
      {"SENDER", "Sender", "channel: the sender's end: live, never, closed, died", 1, 0},
      {"RECEIVER", "Receiver", "channel: the receiver's end: live, never, closed, died", 1, 0},
  };
  return columns;
}

std::vector<size_t> default_object_columns(const OutputOptions& opts) {
  std::vector<size_t> cols = {kColKind, kColId,     kColKey,    kColPerms, kColOwner,
                              kColSize, kColNattch, kColStatus, kColCtime};
  if (opts.creator) cols.insert(cols.end(), {kColCuid, kColCgid, kColUid, kColGid});
  if (opts.times) cols.insert(cols.end(), {kColAttach, kColDetach, kColMtime});
  if (opts.channels)
    cols.insert(cols.end(), {kColSlotSize, kColSlots, kColQueued, kColSender, kColReceiver});
  cols.push_back(kColHolders);
  return cols;
}

std::vector<size_t> info_columns(const Object& o) {
  if (o.kind == IPCSHM_KIND_SYSV)
    return {kColId,     kColKind,  kColKey,    kColShmid,   kColPerms,  kColOwner, kColUid,
            kColUser,   kColGid,   kColGroup,  kColCuid,    kColCuser,  kColCgid,  kColCgroup,
            kColSize,   kColNattch, kColVolatile, kColStatus, kColAttach, kColDetach,
            kColCtime,  kColCpid,  kColLpid,   kColCommand, kColHolders, kColHidden};
  std::vector<size_t> cols = {kColId,   kColKind,     kColPerms, kColOwner,
                              kColUid,  kColUser,     kColGid,   kColGroup,
                              kColSize, kColVolatile, kColStatus, kColMtime,
                              kColCtime, kColHolders, kColHidden};
  // A channel's shape and state after its size.
  if (o.channel)
    cols.insert(cols.begin() + 9,
                {kColSlotSize, kColSlots, kColQueued, kColSender, kColReceiver});
  return cols;
}

bool needs_holder_scan(const std::vector<size_t>& columns) {
  return std::any_of(columns.begin(), columns.end(),
                     [](size_t c) { return c == kColHolders || c == kColHidden; });
}

namespace {

Value name_or_none(const std::string& name) {
  return name.empty() ? Value::none() : Value::of_text(name);
}

Value owner_cell(uint32_t uid) {
  const std::string name = user_name(uid);
  return Value::of_text(name.empty() ? std::to_string(uid) : name);
}

// A channel end's state (ipcshm_channel_info_t's sender, receiver).
Value end_cell(uint32_t state) {
  switch (state) {
    case IPCSHM_END_NEVER: return Value::of_text("never");
    case IPCSHM_END_OPEN: return Value::of_text("live");
    case IPCSHM_END_CLOSED: return Value::of_text("closed");
    case IPCSHM_END_DIED: return Value::of_text("died");
    default: return Value::of_text("unknown");
  }
}

Value time_cell(int64_t seconds, const OutputOptions& opts) {
  return seconds == 0 ? Value::none() : Value::of_text(time_text(seconds, opts.time_format));
}

}  // namespace

Value object_cell(size_t column, const Object& o, const CellContext& ctx) {
  const ipcshm_info_t& in = o.info;
  const bool sysv = o.kind == IPCSHM_KIND_SYSV;
  const bool object = o.kind != 0;
  switch (column) {
    case kColKind: return Value::of_text(kind_name(o));
    case kColId: return Value::of_text(o.id);
    case kColKey:
      return sysv ? Value::of_text(format("0x%08" PRIx32, static_cast<uint32_t>(in.key)))
                  : Value::none();
    case kColShmid: return sysv ? Value::of_number(in.shmid) : Value::none();
    case kColOwner: return owner_cell(in.uid);
    case kColPerms: return Value::of_text(perms_text(in.mode, ctx.opts.numeric_perms));
    case kColUid: return Value::of_number(in.uid);
    case kColUser: return name_or_none(user_name(in.uid));
    case kColGid: return Value::of_number(in.gid);
    case kColGroup: return name_or_none(group_name(in.gid));
    case kColCuid: return sysv ? Value::of_number(in.cuid) : Value::none();
    case kColCuser: return sysv ? name_or_none(user_name(in.cuid)) : Value::none();
    case kColCgid: return sysv ? Value::of_number(in.cgid) : Value::none();
    case kColCgroup: return sysv ? name_or_none(group_name(in.cgid)) : Value::none();
    case kColSize:
      if (!object) return Value::none();
      return ctx.opts.bytes ? Value::of_number(static_cast<long long>(in.size))
                            : Value::of_text(human_size(in.size));
    case kColNattch: return sysv ? Value::of_number(static_cast<long long>(in.nattch)) : Value::none();
    case kColStatus: {
      std::string s = status_text(o, ctx.locks);
      return s.empty() ? Value::none() : Value::of_text(std::move(s));
    }
    case kColVolatile: return object ? Value::of_bool(o.is_volatile()) : Value::none();
    case kColCtime: return time_cell(in.ctime, ctx.opts);
    case kColMtime: return sysv ? Value::none() : time_cell(in.dtime, ctx.opts);
    case kColAttach: return sysv ? time_cell(in.atime, ctx.opts) : Value::none();
    case kColDetach: return sysv ? time_cell(in.dtime, ctx.opts) : Value::none();
    case kColCpid: return sysv ? Value::of_number(in.cpid) : Value::none();
    case kColLpid: return sysv ? Value::of_number(in.lpid) : Value::none();
    case kColCommand: return sysv ? name_or_none(process_command(in.cpid)) : Value::none();
    case kColHolders: {
      if (!ctx.scan) return Value::none();
      Value v;
      v.kind = Value::Kind::kList;
      for (const Holder& h : holders_of(*ctx.scan, o)) {
        v.list.push_back(h.pid);
        if (ctx.opts.mode != OutputMode::kPretty) continue;  // the label view's lines
        const std::string cmd = process_command(h.pid);
        v.details.push_back(format("%d %s (%s)", static_cast<int>(h.pid),
                                   cmd.empty() ? "?" : cmd.c_str(), access_text(h).c_str()));
      }
      return v;
    }
    case kColHidden:
      if (!ctx.scan) return Value::none();
      return Value::of_number(static_cast<long long>(hidden_holders(*ctx.scan, o)));
    case kColSlotSize:
      if (!o.channel) return Value::none();
      return ctx.opts.bytes ? Value::of_number(o.ch.slot_size)
                            : Value::of_text(human_size(o.ch.slot_size));
    case kColSlots: return o.channel ? Value::of_number(o.ch.slot_count) : Value::none();
    case kColQueued:
      return o.channel ? Value::of_number(static_cast<long long>(o.ch.queued)) : Value::none();
    case kColSender: return o.channel ? end_cell(o.ch.sender) : Value::none();
    case kColReceiver: return o.channel ? end_cell(o.ch.receiver) : Value::none();
    default: return Value::none();
  }
}

const std::vector<ColumnSpec>& holder_columns() {
  static const std::vector<ColumnSpec> columns = {
      {"ID", "Id", "the object's id", 1, 0},
      {"PID", "PID", "the holder's process ID", 1, SCOLS_FL_RIGHT},
      {"USER", "User", "the holder's user name or UID", 1, 0},
      {"ACCESS", "Access", "map-rw/ro, shmat-rw/ro (:N attachments), fd, flock-sh/ex", 1, 0},
      {"COMMAND", "Command", "the holder's command line", 0, SCOLS_FL_TRUNC},
  };
  return columns;
}

std::vector<size_t> default_holder_columns() {
  return {kHolId, kHolPid, kHolUser, kHolAccess, kHolCommand};
}

Value holder_cell(size_t column, const Object& o, const Holder& h) {
  switch (column) {
    case kHolId: return Value::of_text(o.id);
    case kHolPid: return Value::of_number(h.pid);
    case kHolUser: return owner_cell(h.uid);
    case kHolAccess: return Value::of_text(access_text(h));
    case kHolCommand: return name_or_none(process_command(h.pid));
    default: return Value::none();
  }
}

HolderScan scan_for(const std::vector<Object>& objects, const LockTable& locks) {
  std::set<FileKey> files;
  for (const Object& o : objects)
    if (o.kind != IPCSHM_KIND_SYSV && o.file.ino != 0) files.insert(o.file);
  return scan_holders(files, locks);
}

void note_hidden(const std::vector<Object>& objects, const HolderScan& scan) {
  bool names = false;
  uint64_t attachments = 0;
  for (const Object& o : objects) {
    if (o.kind == IPCSHM_KIND_SYSV) attachments += hidden_holders(scan, o);
    else names = true;
  }
  const unsigned uid = static_cast<unsigned>(::geteuid());
  if (names && scan.hidden > 0)
    complain("note: %u of the %u processes could not be inspected (uid %u may not read their "
             "maps and descriptors): POSIX holders among them show only by their flock",
             scan.hidden, scan.processes, uid);
  if (attachments > 0)
    complain("note: %" PRIu64 " System V attachments are by processes hidden from uid %u "
             "(the HIDDEN column counts them by segment)",
             attachments, uid);
}

}  // namespace ipcshm_cli
