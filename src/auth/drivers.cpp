// Driver names as dovecot.conf spells them, mapped to their classes.
#include "auth/checkpassword_db.h"
#include "auth/errors.h"
#include "auth/pam_passdb.h"
#include "auth/passdb.h"
#include "auth/passwd_file_db.h"
#include "auth/prefetch_db.h"
#include "auth/sql_db.h"
#include "auth/static_db.h"
#include "auth/system_db.h"

namespace loft::auth {

std::unique_ptr<Passdb> make_passdb(std::string_view driver, std::string_view args)
{
    if (driver == "passwd-file")
        return std::make_unique<PasswdFilePassdb>(args);
    if (driver == "static")
        return std::make_unique<StaticPassdb>(args);
    if (driver == "passwd")
        return std::make_unique<PasswdPassdb>();
    if (driver == "shadow")
        return std::make_unique<ShadowPassdb>();
    if (driver == "pam")
        return std::make_unique<PamPassdb>(args);
    if (driver == "sql")
        return std::make_unique<SqlPassdb>(args);
    if (driver == "checkpassword")
        return std::make_unique<CheckpasswordPassdb>(args);
    throw AuthError("Unknown passdb driver '" + std::string(driver) + "'");
}

std::unique_ptr<Userdb> make_userdb(std::string_view driver, std::string_view args)
{
    if (driver == "passwd-file")
        return std::make_unique<PasswdFileUserdb>(args);
    if (driver == "static")
        return std::make_unique<StaticUserdb>(args);
    if (driver == "passwd")
        return std::make_unique<PasswdUserdb>();
    if (driver == "sql")
        return std::make_unique<SqlUserdb>(args);
    if (driver == "prefetch")
        return std::make_unique<PrefetchUserdb>();
    if (driver == "checkpassword")
        return std::make_unique<CheckpasswordUserdb>(args);
    throw AuthError("Unknown userdb driver '" + std::string(driver) + "'");
}

}  // namespace loft::auth
