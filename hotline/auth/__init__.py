"""Who may call the API: roles, tokens (stored as hashes) and the FastAPI dependencies."""

from hotline.auth.deps import RoleRequirement, bearer_scheme, require_role, route_roles
from hotline.auth.principal import Principal
from hotline.auth.roles import ADMINS, OPERATORS, READERS, ROLE_NAMES, Role, parse_role
from hotline.auth.tokens import (
    DuplicateTokenName,
    TokenError,
    TokenInfo,
    TokenNotFound,
    add_token,
    authenticate,
    list_tokens,
    revoke_token,
)

__all__ = [
    "ADMINS",
    "OPERATORS",
    "READERS",
    "ROLE_NAMES",
    "DuplicateTokenName",
    "Principal",
    "Role",
    "RoleRequirement",
    "TokenError",
    "TokenInfo",
    "TokenNotFound",
    "add_token",
    "authenticate",
    "bearer_scheme",
    "list_tokens",
    "parse_role",
    "require_role",
    "revoke_token",
    "route_roles",
]
