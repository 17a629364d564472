// One user's mbox tree (Dovecot's mbox:ROOT:INBOX=PATH): folders are files, hierarchies
// are directories (which cannot also be mailboxes), subscriptions in ROOT/.subscriptions.
// Same operations as MaildirStore, opening folders as MboxMailbox objects.
#pragma once

#include "storage/mail_types.h"
#include "storage/mbox/location.h"
#include "storage/mbox/mailbox.h"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace loft::storage {

class MboxStore {
public:
    // location is mail_location after % and ~ expansion, with or without "mbox:".
    explicit MboxStore(std::string location, char separator = '/', mbox::MboxOptions options = {});

    char separator() const { return separator_; }
    const mbox::MboxLocation& location() const { return location_; }

    void set_special_use(std::map<std::string, std::string> by_name) { special_use_ = std::move(by_name); }
    std::vector<MailboxListEntry> list() const;
    bool exists(std::string_view mailbox) const;
    // "Name/" (trailing separator) creates only the directory, as Dovecot does.
    void create(std::string_view mailbox);
    void remove(std::string_view mailbox);
    void rename(std::string_view from, std::string_view to);

    std::vector<std::string> subscriptions() const;
    void subscribe(std::string_view mailbox, bool subscribed = true);

    std::unique_ptr<MboxMailbox> open(std::string_view mailbox, bool read_only);
    MailboxStatus status(std::string_view mailbox);

    // Throws BadName for names this layout cannot store.
    mbox::MboxPaths paths_for(std::string_view mailbox) const;

private:
    bool is_inbox(std::string_view mailbox) const;
    std::vector<std::string> storage_components(std::string_view mailbox) const;
    std::string path_of(const std::vector<std::string>& components) const;
    std::string index_dir_of(const std::vector<std::string>& components) const;
    // Makes the parent directories of components, refusing to go below a mailbox file.
    void make_parents(const std::vector<std::string>& components) const;
    void collect(const std::string& dir, std::vector<std::string>& prefix, size_t& count,
                 std::vector<MailboxListEntry>& out) const;

    mbox::MboxLocation location_;
    char separator_;
    mbox::MboxOptions options_;
    std::map<std::string, std::string> special_use_;
};

}  // namespace loft::storage
