#include "storage/mbox/store.h"

#include "storage/mbox/privileged_group.h"

#include "lib/strings.h"
#include "lib/system_error.h"
#include "storage/maildir/fs_util.h"
#include "storage/maildir/mutf7.h"
#include "storage/maildir/subscriptions.h"
#include "storage/storage_error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace loft::storage {

using maildir::join_path;

namespace {

constexpr size_t max_name_length = 1024;
constexpr size_t max_depth = 32;
constexpr size_t max_listed = 100'000;

bool ends_with(std::string_view text, std::string_view suffix)
{
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Files in the tree that are not mailboxes: locks, our temporary files, Dovecot's indexes.
bool is_internal_name(std::string_view name)
{
    return name.empty() || name[0] == '.' || ends_with(name, ".lock");
}

std::string display_component(const std::string& stored)
{
    try {
        return mutf7_to_utf8(stored);
    } catch (const StorageError&) {
        return stored;
    }
}

enum class Kind { Missing, File, Directory, Other };

Kind kind_of(const std::string& path)
{
    struct stat st;
    if (::stat(path.c_str(), &st) < 0)
        return Kind::Missing;
    if (S_ISREG(st.st_mode))
        return Kind::File;
    if (S_ISDIR(st.st_mode))
        return Kind::Directory;
    return Kind::Other;
}

}  // namespace

MboxStore::MboxStore(std::string location, char separator, mbox::MboxOptions options)
    : location_(mbox::MboxLocation::parse(location)), separator_(separator), options_(std::move(options))
{
}

bool MboxStore::is_inbox(std::string_view mailbox) const
{
    return iequals(mailbox, "INBOX");
}

std::vector<std::string> MboxStore::storage_components(std::string_view mailbox) const
{
    if (mailbox.empty() || mailbox.size() > max_name_length)
        throw StorageError(StorageError::Kind::BadName, "invalid mailbox name length");
    auto parts = split(mailbox, separator_);
    if (parts.size() > max_depth)
        throw StorageError(StorageError::Kind::BadName, "mailbox name too deep: " + std::string(mailbox));
    std::vector<std::string> components;
    for (const auto& part : parts) {
        if (part.empty() || part == "." || part == ".." || part[0] == '.' || ends_with(part, ".lock") ||
            part.find('/') != std::string::npos || part.find('\0') != std::string::npos)
            throw StorageError(StorageError::Kind::BadName, "mailbox name not allowed with mbox: " + std::string(mailbox));
        components.push_back(utf8_to_mutf7(part));
    }
    if (components.size() == 1 && iequals(components[0], "inbox"))
        throw StorageError(StorageError::Kind::BadName, "INBOX cannot have that spelling here");
    return components;
}

std::string MboxStore::path_of(const std::vector<std::string>& components) const
{
    std::string path = location_.root;
    for (const auto& component : components)
        path = join_path(path, component);
    return path;
}

std::string MboxStore::index_dir_of(const std::vector<std::string>& components) const
{
    if (components.size() <= 1 || !location_.index.empty()) {
        std::string path = location_.index_root();
        for (const auto& component : components)
            path = join_path(path, component);
        return path;
    }
    std::vector<std::string> parents(components.begin(), components.end() - 1);
    return join_path(join_path(path_of(parents), ".imap"), components.back());
}

mbox::MboxPaths MboxStore::paths_for(std::string_view mailbox) const
{
    mbox::MboxPaths paths;
    paths.name = is_inbox(mailbox) ? "INBOX" : std::string(mailbox);
    paths.file = is_inbox(mailbox) ? location_.inbox : path_of(storage_components(mailbox));
    paths.uidvalidity_dir = location_.index_root();
    if (!location_.index_in_memory)
        paths.index_dir = is_inbox(mailbox) ? join_path(location_.index_root(), "INBOX")
                                            : index_dir_of(storage_components(mailbox));
    return paths;
}

bool MboxStore::exists(std::string_view mailbox) const
{
    return kind_of(paths_for(mailbox).file) == Kind::File;
}

void MboxStore::collect(const std::string& dir, std::vector<std::string>& prefix, size_t& count,
                        std::vector<MailboxListEntry>& out) const
{
    if (prefix.size() >= max_depth)
        return;
    auto names = maildir::list_dir(dir);
    if (!names)
        return;
    std::sort(names->begin(), names->end());
    for (const auto& name : *names) {
        if (is_internal_name(name))
            continue;
        if (prefix.empty() && iequals(name, "inbox"))
            continue;
        if (++count > max_listed)
            throw StorageError(StorageError::Kind::Limit, "too many mailboxes under " + location_.root);
        std::string path = join_path(dir, name);
        Kind kind = kind_of(path);
        if (kind != Kind::File && kind != Kind::Directory)
            continue;
        if (path == location_.inbox)
            continue;
        prefix.push_back(display_component(name));
        MailboxListEntry entry;
        entry.name = join(prefix, std::string(1, separator_));
        if (kind == Kind::File) {
            entry.attributes = HasNoChildren;
            auto special = special_use_.find(entry.name);
            if (special != special_use_.end())
                entry.special_use = special->second;
            out.push_back(std::move(entry));
        } else {
            size_t before = out.size();
            out.push_back(std::move(entry));
            collect(path, prefix, count, out);
            out[before].attributes = NoSelect | (out.size() > before + 1 ? HasChildren : HasNoChildren);
        }
        prefix.pop_back();
    }
}

std::vector<MailboxListEntry> MboxStore::list() const
{
    std::vector<MailboxListEntry> out;
    MailboxListEntry inbox;
    inbox.name = "INBOX";
    inbox.attributes = HasNoChildren;
    auto special = special_use_.find("INBOX");
    if (special != special_use_.end())
        inbox.special_use = special->second;
    out.push_back(std::move(inbox));
    std::vector<std::string> prefix;
    size_t count = 0;
    collect(location_.root, prefix, count, out);
    return out;
}

void MboxStore::make_parents(const std::vector<std::string>& components) const
{
    maildir::make_dir(location_.root, 0700);
    std::string path = location_.root;
    for (size_t i = 0; i + 1 < components.size(); i++) {
        path = join_path(path, components[i]);
        Kind kind = kind_of(path);
        if (kind == Kind::File)
            throw StorageError(StorageError::Kind::NotAllowed, "Mailbox doesn't allow inferior mailboxes");
        if (kind == Kind::Missing)
            maildir::make_dir(path, 0700);
    }
}

void MboxStore::create(std::string_view mailbox)
{
    bool directory_only = !mailbox.empty() && mailbox.back() == separator_;
    if (directory_only)
        mailbox.remove_suffix(1);
    if (is_inbox(mailbox)) {
        if (kind_of(location_.inbox) != Kind::Missing)
            throw StorageError(StorageError::Kind::Exists, "Mailbox already exists: INBOX");
        UniqueFd fd(::open(location_.inbox.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (!fd.valid())
            throw_errno("create " + location_.inbox);
        return;
    }
    auto components = storage_components(mailbox);
    std::string path = path_of(components);
    if (kind_of(path) != Kind::Missing)
        throw StorageError(StorageError::Kind::Exists, "Mailbox already exists: " + std::string(mailbox));
    make_parents(components);
    if (directory_only) {
        maildir::make_dir(path, 0700);
        return;
    }
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd.valid()) {
        if (errno == EEXIST)
            throw StorageError(StorageError::Kind::Exists, "Mailbox already exists: " + std::string(mailbox));
        throw StorageError(StorageError::Kind::Io, "cannot create " + path + ": " + strerror(errno));
    }
    maildir::fsync_dir(path.substr(0, path.rfind('/')));
}

void MboxStore::remove(std::string_view mailbox)
{
    if (is_inbox(mailbox))
        throw StorageError(StorageError::Kind::NotAllowed, "INBOX can't be deleted.");
    auto components = storage_components(mailbox);
    std::string path = path_of(components);
    switch (kind_of(path)) {
    case Kind::Missing:
    case Kind::Other:
        throw StorageError(StorageError::Kind::NotFound, "Mailbox doesn't exist: " + std::string(mailbox));
    case Kind::File:
        if (::unlink(path.c_str()) < 0)
            throw_errno("unlink " + path);
        break;
    case Kind::Directory: {
        auto names = maildir::list_dir(path).value_or(std::vector<std::string>{});
        for (const auto& name : names)
            if (!is_internal_name(name))
                throw StorageError(StorageError::Kind::NotAllowed, "Mailbox has children, delete them first");
        maildir::remove_tree(path);
        break;
    }
    }
    maildir::remove_tree(index_dir_of(components));
}

void MboxStore::rename(std::string_view from, std::string_view to)
{
    if (is_inbox(from) || is_inbox(to))
        throw StorageError(StorageError::Kind::NotAllowed, "renaming INBOX is not supported with mbox");
    auto from_components = storage_components(from);
    auto to_components = storage_components(to);
    std::string from_path = path_of(from_components);
    std::string to_path = path_of(to_components);
    if (kind_of(from_path) == Kind::Missing)
        throw StorageError(StorageError::Kind::NotFound, "Mailbox doesn't exist: " + std::string(from));
    if (kind_of(to_path) != Kind::Missing)
        throw StorageError(StorageError::Kind::Exists, "Mailbox already exists: " + std::string(to));
    if (to_path.size() > from_path.size() && to_path.compare(0, from_path.size() + 1, from_path + "/") == 0)
        throw StorageError(StorageError::Kind::NotAllowed, "Can't rename mailbox under itself");
    make_parents(to_components);
    if (::rename(from_path.c_str(), to_path.c_str()) < 0)
        throw_errno("rename " + from_path);
    // Dovecot's index for the old name would describe a file that is gone.
    maildir::remove_tree(index_dir_of(from_components));
}

std::vector<std::string> MboxStore::subscriptions() const
{
    std::vector<std::string> names;
    for (const auto& stored : maildir::read_subscriptions(location_.subscriptions_path(), separator_)) {
        std::vector<std::string> parts;
        for (const auto& part : split(stored, separator_))
            parts.push_back(display_component(part));
        names.push_back(join(parts, std::string(1, separator_)));
    }
    return names;
}

void MboxStore::subscribe(std::string_view mailbox, bool subscribed)
{
    std::string stored = is_inbox(mailbox) ? "INBOX" : join(storage_components(mailbox), std::string(1, separator_));
    if (location_.control.empty())
        maildir::make_dir(location_.root, 0700);
    maildir::set_subscribed(location_.subscriptions_path(), separator_, stored, subscribed);
}

std::unique_ptr<MboxMailbox> MboxStore::open(std::string_view mailbox, bool read_only)
{
    auto paths = paths_for(mailbox);
    if (is_inbox(mailbox) && kind_of(paths.file) == Kind::Missing) {
        // INBOX always exists for IMAP; Dovecot creates the file on first use.
        mbox::PrivilegedGroup group(mbox::directory_of(paths.file));
        UniqueFd fd(::open(paths.file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (!fd.valid() && errno != EEXIST)
            throw_errno("create " + paths.file);
    }
    if (kind_of(paths.file) != Kind::File)
        throw StorageError(StorageError::Kind::NotFound, "Mailbox doesn't exist: " + std::string(mailbox));
    return std::make_unique<MboxMailbox>(std::move(paths), read_only, options_);
}

MailboxStatus MboxStore::status(std::string_view mailbox)
{
    return open(mailbox, true)->status();
}

}  // namespace loft::storage
