// One user's mbox tree (Dovecot's mbox:ROOT:INBOX=PATH): folders are files, hierarchies
// are directories (which cannot also be mailboxes), subscriptions in ROOT/.subscriptions.
// Same operations as MaildirStore, opening folders as MboxMailbox objects.
#pragma once

#include "storage/mail_store.h"
#include "storage/mail_types.h"
#include "storage/mbox/location.h"
#include "storage/mbox/mailbox.h"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace loft::storage {

class MboxStore : public MailStore {
public:
    // location is mail_location after % and ~ expansion, with or without "mbox:".
    explicit MboxStore(std::string location, char separator = '/', mbox::MboxOptions options = {});

    char separator() const override { return separator_; }
    const mbox::MboxLocation& location() const { return location_; }

    void set_special_use(std::map<std::string, std::string> by_name) override { special_use_ = std::move(by_name); }
    std::vector<MailboxListEntry> list() const override;
    bool exists(std::string_view mailbox) const override;
    // "Name/" (trailing separator) creates only the directory, as Dovecot does.
    void create(std::string_view mailbox) override;
    void remove(std::string_view mailbox) override;
    void rename(std::string_view from, std::string_view to) override;

    std::vector<std::string> subscriptions() const override;
    void subscribe(std::string_view mailbox, bool subscribed = true) override;

    std::unique_ptr<MboxMailbox> open(std::string_view mailbox, bool read_only);
    MailboxStatus status(std::string_view mailbox) override;

    // Throws BadName for names this layout cannot store.
    mbox::MboxPaths paths_for(std::string_view mailbox) const;

protected:
    std::unique_ptr<Mailbox> open_mailbox(std::string_view mailbox, bool read_only) override
    {
        return open(mailbox, read_only);
    }

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
