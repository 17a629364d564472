// The storage API: what a protocol worker may ask of a user's storage daemon.
// Every call after open_session names the session it returned; the daemon checks the
// session's scope (imap = mailbox access, lmtp = delivery only) on each call.
namespace cpp loft.rpc

enum ErrorKind {
  NOT_FOUND = 1,
  EXISTS = 2,
  DENIED = 3,
  INVALID = 4,
  LIMIT = 5,
  INTERNAL = 6,
  TEMPORARY = 7,
  NO_SESSION = 8,
}

exception StorageError {
  1: ErrorKind kind,
  2: string message,
  40: optional string response_code,  // IMAP response code for the NO, e.g. UNKNOWN-CTE
}

// System flags as bits (see SystemFlag in src/rpc/flags.h) plus keywords by name.
struct Flags {
  1: i32 system,
  2: list<string> keywords,
}

struct MailboxEntry {
  1: string name,               // IMAP name (mUTF-7), hierarchy separator as in the namespace
  2: list<string> attributes,   // \Noselect \HasChildren \HasNoChildren \Sent ...
}

struct MailboxList {
  1: string separator,
  2: list<MailboxEntry> mailboxes,
}

struct MailboxStatus {
  1: i32 uidvalidity,
  2: i32 uidnext,
  3: i32 messages,
  4: i32 recent,
  5: i32 unseen,
  6: i32 first_unseen_uid,      // 0 when every message is seen
  7: list<string> keywords,     // keywords defined in the mailbox (for FLAGS)
  8: i64 highest_modseq,
  80: i64 size,                 // STATUS SIZE: sum of RFC822.SIZE
  81: string guid,              // STATUS X-GUID: the mailbox GUID (dovecot-uidlist G)
}

// A view is one session's open mailbox: the daemon remembers which UIDs and flags
// this view was told about, so changes can be reported as EXISTS/EXPUNGE/FETCH.
struct SelectReply {
  1: i64 view,
  2: MailboxStatus status,
  3: list<i32> uids,            // sequence number n is uids[n-1]
  4: bool read_only,
}

enum FetchItem {
  FLAGS = 1,
  SIZE = 2,
  INTERNALDATE = 3,
  ENVELOPE = 4,
  BODYSTRUCTURE = 5,
  BODY = 6,
  MODSEQ = 20,                  // CONDSTORE (MessageData.modseq)
}

struct MessageData {
  1: i32 uid,
  2: optional Flags flags,
  3: optional i64 size,         // RFC822.SIZE: the CRLF size (Dovecot's W=)
  4: optional i64 internal_date,
  5: optional string envelope,      // IMAP syntax, ready to send
  6: optional string bodystructure,
  7: optional string body,
  8: optional i64 modseq,
}

// One piece of a message section in its IMAP (CRLF) form.
struct SectionChunk {
  1: binary data,
  2: i64 total_size,            // size of the whole section (before any partial range)
  40: optional bool literal8,   // read_binary: send as ~{n} (decoded parts or NULs)
}

enum StoreMode {
  REPLACE = 1,
  ADD = 2,
  REMOVE = 3,
}

struct ViewChanges {
  1: list<i32> expunged,        // UIDs gone since the view last heard
  2: list<MessageData> added,   // new messages (uid, flags)
  3: list<MessageData> changed, // flag changes (uid, flags)
  4: MailboxStatus status,
}

struct CopyResult {
  1: i32 uidvalidity,           // of the target mailbox
  2: list<i32> source_uids,
  3: list<i32> dest_uids,       // dest_uids[i] is the copy of source_uids[i]
}

// SEARCH, SORT and THREAD run in the storage daemon, over the view's messages in the
// client's sequence order. The request is the command's arguments in IMAP syntax.
struct SearchReply {
  1: list<i32> uids,            // SEARCH: ascending; SORT: in sort order
  2: string thread,             // THREAD: the thread list, with UIDs or sequence numbers
  3: i64 highest_modseq,        // when the program had a MODSEQ key, else 0
  220: list<i64> modseqs,       // then also each message's modseq (modseqs[i] of uids[i])
}

// STORE (UNCHANGEDSINCE n): each message is checked and changed in one step.
struct ConditionalStoreResult {
  1: list<MessageData> updated, // messages whose flags changed (uid, flags, modseq)
  2: list<i32> modified,        // UIDs left alone: their modseq was above the limit
}

struct AppendResult {
  1: i32 uidvalidity,
  2: i32 uid,
}

// POP3 (field ids 200-219): one message of the list a POP3 session fixes at login.
struct Pop3Message {
  200: i32 uid,
  201: i64 virtual_size,        // RETR's "octets": the CRLF size
  202: Flags flags,
  203: string backend_uidl,     // UIDL stored by a migration (dovecot-uidlist P), "" if none
  204: string file_name,        // pop3_uidl_format %f: Maildir base file name, "" if none
  205: string guid,             // pop3_uidl_format %g
}

service Storage {
  // The grant is the signed token loft-auth issued for this user; the daemon
  // verifies it and serves only the user it names.
  i64 open_session(1: binary grant) throws (1: StorageError error),
  void close_session(1: i64 session),

  MailboxList list_mailboxes(1: i64 session) throws (1: StorageError error),
  void create_mailbox(1: i64 session, 2: string mailbox) throws (1: StorageError error),
  void delete_mailbox(1: i64 session, 2: string mailbox) throws (1: StorageError error),
  void rename_mailbox(1: i64 session, 2: string from_name, 3: string to_name) throws (1: StorageError error),
  MailboxStatus mailbox_status(1: i64 session, 2: string mailbox) throws (1: StorageError error),
  list<string> list_subscriptions(1: i64 session) throws (1: StorageError error),
  void set_subscribed(1: i64 session, 2: string mailbox, 3: bool subscribed) throws (1: StorageError error),

  SelectReply select_mailbox(1: i64 session, 2: string mailbox, 3: bool read_only) throws (1: StorageError error),
  void close_view(1: i64 session, 2: i64 view),
  list<MessageData> fetch(1: i64 session, 2: i64 view, 3: list<i32> uids, 4: list<FetchItem> items) throws (1: StorageError error),
  // section: "" (whole message), "HEADER", "TEXT", later MIME part paths.
  SectionChunk read_section(1: i64 session, 2: i64 view, 3: i32 uid, 4: string section, 5: i64 offset, 6: i32 max_bytes) throws (1: StorageError error),
  // BINARY[section] (RFC 3516): the section with its transfer encodings undone. An
  // unknown encoding or undecodable data fails with response_code UNKNOWN-CTE or PARSE.
  SectionChunk read_binary(1: i64 session, 2: i64 view, 3: i32 uid, 4: string section, 5: i64 offset, 6: i32 max_bytes) throws (1: StorageError error),
  // BINARY.SIZE[section], as Dovecot computes it.
  i64 binary_size(1: i64 session, 2: i64 view, 3: i32 uid, 4: string section) throws (1: StorageError error),
  list<MessageData> store_flags(1: i64 session, 2: i64 view, 3: list<i32> uids, 4: StoreMode mode, 5: Flags flags) throws (1: StorageError error),
  // Expunges the \Deleted messages among uids (all of them when uids is empty).
  list<i32> expunge(1: i64 session, 2: i64 view, 3: list<i32> uids) throws (1: StorageError error),
  // COPY and MOVE (a move also expunges the sources from this view).
  CopyResult copy_messages(1: i64 session, 2: i64 view, 3: list<i32> uids, 4: string target, 5: bool move) throws (1: StorageError error),
  // kind: SEARCH, SORT or THREAD; arguments as the client sent them after the command
  // name; uid_threads: THREAD answers with UIDs (UID THREAD); saved_uids: what "$"
  // stands for (the session's SEARCHRES result, RFC 5182).
  SearchReply search(1: i64 session, 2: i64 view, 3: string kind, 4: string arguments, 5: bool uid_threads, 220: list<i32> saved_uids) throws (1: StorageError error),
  ViewChanges sync_view(1: i64 session, 2: i64 view) throws (1: StorageError error),
  // Long poll for IDLE: answers as soon as the view has changes, or empty at timeout.
  ViewChanges wait_changes(1: i64 session, 2: i64 view, 3: i32 timeout_ms) throws (1: StorageError error),
  // Ends a pending wait_changes at once (IDLE's DONE); it answers with no changes.
  void cancel_wait(1: i64 session, 2: i64 view),

  // APPEND and LMTP delivery, streamed: the message never travels in one piece.
  i64 begin_append(1: i64 session, 2: string mailbox, 3: Flags flags, 4: i64 internal_date) throws (1: StorageError error),
  void append_chunk(1: i64 session, 2: i64 append, 3: binary data) throws (1: StorageError error),
  AppendResult commit_append(1: i64 session, 2: i64 append) throws (1: StorageError error),
  void abort_append(1: i64 session, 2: i64 append),

  // Plugins extend the API without the base knowing them: the payload is the
  // plugin's own Thrift struct.
  binary plugin_call(1: i64 session, 2: string plugin, 3: string method, 4: binary payload) throws (1: StorageError error),

  // CONDSTORE/QRESYNC (RFC 7162).
  // STORE with UNCHANGEDSINCE: a message whose modseq is above unchanged_since is
  // not changed but listed in `modified`.
  ConditionalStoreResult store_flags_unchanged_since(1: i64 session, 2: i64 view, 3: list<i32> uids, 4: StoreMode mode, 5: Flags flags, 6: i64 unchanged_since) throws (1: StorageError error),
  // UIDs in uid_set (IMAP sequence-set syntax, no "*") expunged after modseq, as an
  // IMAP sequence-set ("" for none); when the daemon no longer knows that far back,
  // every UID of the set below UIDNEXT that is not in the mailbox. known_seqs and
  // known_uids are QRESYNC's sequence-match-data, used only in that second case.
  string vanished_since(1: i64 session, 2: i64 view, 3: i64 modseq, 4: string uid_set, 5: list<i32> known_seqs, 6: list<i32> known_uids) throws (1: StorageError error),

  // POP3: the view's messages in UID order, without those carrying hidden_keyword
  // (pop3_deleted_flag; "" hides none).
  list<Pop3Message> pop3_messages(1: i64 session, 2: i64 view, 3: string hidden_keyword) throws (1: StorageError error),
  // POP3 RETR/TOP: the message as stored (LF line ends, NULs kept: no IMAP form), from offset.
  SectionChunk pop3_read(1: i64 session, 2: i64 view, 3: i32 uid, 4: i64 offset, 5: i32 max_bytes) throws (1: StorageError error),
}
