"""Privacy: consents and pending history erasures; encrypt personal data at rest: phone numbers, chat ids, SSO IDs, consumer numbers, names,
inbound texts, outbound messages; keyed hashes (blind indexes) for lookups and uniqueness.

Existing rows are converted in place with the key ring the caller passes in the Alembic
config's attributes: `python -m app.cli.migrate` passes the settings' (DATA_ENCRYPTION_KEYS /
DATA_HASH_KEY, or the development keys derived from APP_SECRET_KEY), so run it with the same
environment as the gateway. The downgrade decrypts them again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import context, op

from integrations.db.crypto import KeyRing

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# table -> (primary key, encrypted columns, {hash column: (source column, label)})
_PLAN: dict[str, tuple[str, tuple[str, ...], dict[str, tuple[str, str]]]] = {
    "residents": (
        "resident_id",
        ("sso_id", "name", "mobile"),
        {"sso_id_hash": ("sso_id", "sso_id")},
    ),
    "conversations": (
        "conversation_id",
        ("address",),
        {"address_hash": ("address", "address")},
    ),
    "link_challenges": (
        "conversation_id",
        ("sso_id",),
        {"sso_id_hash": ("sso_id", "sso_id")},
    ),
    "saved_accounts": (
        "account_id",
        ("consumer_number",),
        {"consumer_number_hash": ("consumer_number", "consumer_number")},
    ),
    "payments": ("payment_id", ("consumer_number",), {}),
    "inbox": ("entry_id", ("address", "text"), {"address_hash": ("address", "address")}),
    "outbox": ("sequence", ("message",), {}),
    "channel_states": ("conversation_id", ("options",), {}),
}
_OLD_LENGTHS = {
    ("residents", "sso_id"): 64,
    ("residents", "name"): 255,
    ("residents", "mobile"): 20,
    ("conversations", "address"): 255,
    ("link_challenges", "sso_id"): 64,
    ("saved_accounts", "consumer_number"): 64,
    ("payments", "consumer_number"): 64,
    ("inbox", "address"): 255,
}


def _keyring() -> KeyRing:
    """The caller's key ring, asked for only when there is a row to convert (an empty
    database migrates without one)."""
    keyring = context.config.attributes.get("keyring")
    if not isinstance(keyring, KeyRing):
        raise RuntimeError("rows to encrypt and no key ring: run `python -m app.cli.migrate`")
    return keyring


def _convert(transform: Callable[[str, str], str], with_hashes: bool) -> None:
    """Rewrite every encrypted column of every row through `transform(column, value)`."""
    bind = op.get_bind()
    for table_name, (key, columns, hashes) in _PLAN.items():
        table = sa.table(
            table_name,
            sa.column(key),
            *(sa.column(c) for c in columns),
            *(sa.column(h) for h in (hashes if with_hashes else {})),
        )
        rows = bind.execute(sa.select(table.c[key], *(table.c[c] for c in columns))).all()
        for row in rows:
            values: dict[str, str] = {}
            for column in columns:
                values[column] = transform(column, row._mapping[column])
            if with_hashes:
                for hash_column, (source, label) in hashes.items():
                    values[hash_column] = _keyring().blind_index(label, row._mapping[source])
            bind.execute(sa.update(table).where(table.c[key] == row._mapping[key]).values(values))


def upgrade() -> None:
    _create_privacy_tables()
    with op.batch_alter_table("residents") as batch:
        batch.drop_constraint("uq_residents_sso_id", type_="unique")
        batch.add_column(sa.Column("sso_id_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("conversations") as batch:
        batch.drop_constraint("uq_conversations_channel_address", type_="unique")
        batch.add_column(sa.Column("address_hash", sa.String(length=64), nullable=True))
    op.drop_index("ix_link_challenges_sso_id", table_name="link_challenges")
    with op.batch_alter_table("link_challenges") as batch:
        batch.add_column(sa.Column("sso_id_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("saved_accounts") as batch:
        batch.drop_constraint(
            "uq_saved_accounts_resident_id_biller_id_consumer_number", type_="unique"
        )
        batch.add_column(sa.Column("consumer_number_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("address_hash", sa.String(length=64), nullable=True))
    for (table_name, column), _length in _OLD_LENGTHS.items():
        with op.batch_alter_table(table_name) as batch:
            batch.alter_column(column, type_=sa.Text(), existing_nullable=False)

    _convert(lambda _column, value: _keyring().encrypt(value), with_hashes=True)

    # The OTP send log only ever counts sends per SSO ID: a hash is all it needs.
    op.drop_index("ix_otp_sends_sso_id_sent_at", table_name="otp_sends")
    with op.batch_alter_table("otp_sends") as batch:
        batch.add_column(sa.Column("sso_id_hash", sa.String(length=64), nullable=True))
    sends = sa.table("otp_sends", sa.column("send_id"), sa.column("sso_id"), sa.column("sso_id_hash"))
    bind = op.get_bind()
    for send_id, sso_id in bind.execute(sa.select(sends.c.send_id, sends.c.sso_id)).all():
        bind.execute(
            sa.update(sends)
            .where(sends.c.send_id == send_id)
            .values(sso_id_hash=_keyring().blind_index("sso_id", sso_id))
        )
    with op.batch_alter_table("otp_sends") as batch:
        batch.drop_column("sso_id")
        batch.alter_column("sso_id_hash", existing_type=sa.String(length=64), nullable=False)
    op.create_index(op.f("ix_otp_sends_sso_id_hash_sent_at"), "otp_sends", ["sso_id_hash", "sent_at"])

    with op.batch_alter_table("residents") as batch:
        batch.alter_column("sso_id_hash", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint(op.f("uq_residents_sso_id_hash"), ["sso_id_hash"])
    with op.batch_alter_table("conversations") as batch:
        batch.alter_column("address_hash", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint(
            op.f("uq_conversations_channel_address_hash"), ["channel", "address_hash"]
        )
    with op.batch_alter_table("link_challenges") as batch:
        batch.alter_column("sso_id_hash", existing_type=sa.String(length=64), nullable=False)
    op.create_index(op.f("ix_link_challenges_sso_id_hash"), "link_challenges", ["sso_id_hash"])
    with op.batch_alter_table("saved_accounts") as batch:
        batch.alter_column(
            "consumer_number_hash", existing_type=sa.String(length=64), nullable=False
        )
        batch.create_unique_constraint(
            op.f("uq_saved_accounts_resident_id_biller_id_consumer_number_hash"),
            ["resident_id", "biller_id", "consumer_number_hash"],
        )
    with op.batch_alter_table("inbox") as batch:
        batch.alter_column("address_hash", existing_type=sa.String(length=64), nullable=False)


def _create_privacy_tables() -> None:
    op.create_table(
        "consents",
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("notice_version", sa.String(length=16), nullable=False),
        sa.Column("notice_shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_consents")),
    )
    op.create_table(
        "history_erasures",
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_history_erasures")),
    )


def downgrade() -> None:
    op.drop_table("history_erasures")
    op.drop_table("consents")
    _convert(lambda _column, value: _keyring().decrypt(value), with_hashes=False)
    for (table_name, column), length in _OLD_LENGTHS.items():
        with op.batch_alter_table(table_name) as batch:
            batch.alter_column(column, type_=sa.String(length=length), existing_nullable=False)
    # The send log cannot be decrypted (it only held hashes): it starts empty again.
    op.drop_index(op.f("ix_otp_sends_sso_id_hash_sent_at"), table_name="otp_sends")
    op.execute("DELETE FROM otp_sends")
    with op.batch_alter_table("otp_sends") as batch:
        batch.drop_column("sso_id_hash")
        batch.add_column(sa.Column("sso_id", sa.String(length=64), nullable=False))
    op.create_index(op.f("ix_otp_sends_sso_id_sent_at"), "otp_sends", ["sso_id", "sent_at"])
    with op.batch_alter_table("inbox") as batch:
        batch.drop_column("address_hash")
    with op.batch_alter_table("saved_accounts") as batch:
        batch.drop_constraint(
            "uq_saved_accounts_resident_id_biller_id_consumer_number_hash", type_="unique"
        )
        batch.drop_column("consumer_number_hash")
        batch.create_unique_constraint(
            "uq_saved_accounts_resident_id_biller_id_consumer_number",
            ["resident_id", "biller_id", "consumer_number"],
        )
    op.drop_index(op.f("ix_link_challenges_sso_id_hash"), table_name="link_challenges")
    with op.batch_alter_table("link_challenges") as batch:
        batch.drop_column("sso_id_hash")
    op.create_index("ix_link_challenges_sso_id", "link_challenges", ["sso_id"])
    with op.batch_alter_table("conversations") as batch:
        batch.drop_constraint("uq_conversations_channel_address_hash", type_="unique")
        batch.drop_column("address_hash")
        batch.create_unique_constraint("uq_conversations_channel_address", ["channel", "address"])
    with op.batch_alter_table("residents") as batch:
        batch.drop_constraint("uq_residents_sso_id_hash", type_="unique")
        batch.drop_column("sso_id_hash")
        batch.create_unique_constraint("uq_residents_sso_id", ["sso_id"])
