"""Every Flask extension, unbound; create_app() binds them with init_app()."""

from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so Alembic can alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# Serialized thread pages (forum.services.page_cache); configured by forum.config.
cache = Cache()


def rate_limit_key() -> str:
    """Signed-in requests count per account, the rest per client address."""
    if current_user and current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{get_remote_address()}"


limiter = Limiter(key_func=rate_limit_key)

# Posting, through the pages and the API alike: per account, and per client
# address whatever the account (many fresh accounts from one machine).
posting_per_account = limiter.shared_limit("10 per minute", scope="posting")
posting_per_address = limiter.shared_limit(
    "30 per minute", scope="posting-address", key_func=get_remote_address
)
