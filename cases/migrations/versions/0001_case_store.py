"""case store

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 18:31:55.206357
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cases.models.base

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', cases.models.base.UtcDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_log')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_log_hash'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_entity_id'), ['entity_id'], unique=False)

    op.create_table('debtors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_ref', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('national_id', sa.String(length=32), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('language', sa.Enum('zh', 'en', name='language', native_enum=False, length=24), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('created_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.Column('updated_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debtors')),
    sa.UniqueConstraint('external_ref', name=op.f('uq_debtors_external_ref'))
    )
    with op.batch_alter_table('debtors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_debtors_national_id'), ['national_id'], unique=False)

    op.create_table('imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=300), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('started_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.Column('finished_at', cases.models.base.UtcDateTime(), nullable=True),
    sa.Column('inserted', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imports'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('admin', 'campaign_manager', 'supervisor', 'agent', 'compliance_reviewer', name='role', native_enum=False, length=24), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('created_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('creditor', sa.String(length=100), nullable=False),
    sa.Column('account_ref', sa.String(length=64), nullable=False),
    sa.Column('product', sa.Enum('credit_card', 'consumer_loan', 'auto_loan', 'mortgage', 'microloan', 'bnpl', 'utility', 'telecom', 'other', name='product', native_enum=False, length=24), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('principal', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('balance', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('overdue_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('credit_limit', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('jurisdiction', sa.String(length=16), nullable=False),
    sa.Column('charged_off', sa.Boolean(), nullable=False),
    sa.Column('time_barred', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('open', 'promised', 'on_plan', 'paid', 'settled', 'recalled', 'closed', name='accountstatus', native_enum=False, length=24), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('created_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.Column('updated_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_accounts_debtor_id_debtors')),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_accounts_import_id_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('creditor', 'account_ref', name=op.f('uq_accounts_creditor_account_ref'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_balance'), ['balance'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_debtor_id'), ['debtor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_due_date'), ['due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_jurisdiction'), ['jurisdiction'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_product'), ['product'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_status'), ['status'], unique=False)

    op.create_table('addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('home', 'work', 'mailing', name='addresskind', native_enum=False, length=24), nullable=False),
    sa.Column('line1', sa.String(length=300), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('postal_code', sa.String(length=20), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_addresses_debtor_id_debtors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_addresses'))
    )
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_addresses_debtor_id'), ['debtor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_addresses_region'), ['region'], unique=False)

    op.create_table('phones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('debtor_id', sa.Integer(), nullable=False),
    sa.Column('e164', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.Enum('mobile', 'home', 'work', 'other', name='phonekind', native_enum=False, length=24), nullable=False),
    sa.Column('owner', sa.Enum('debtor', 'guarantor', 'reference', name='phoneowner', native_enum=False, length=24), nullable=False),
    sa.Column('owner_name', sa.String(length=200), nullable=True),
    sa.Column('relation', sa.String(length=50), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('consent_automated', sa.Boolean(), nullable=False),
    sa.Column('consent_at', cases.models.base.UtcDateTime(), nullable=True),
    sa.Column('source', sa.String(length=50), nullable=True),
    sa.Column('status', sa.Enum('active', 'invalid', 'disconnected', 'wrong_party', name='phonestatus', native_enum=False, length=24), nullable=False),
    sa.Column('dnc', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['debtor_id'], ['debtors.id'], name=op.f('fk_phones_debtor_id_debtors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phones')),
    sa.UniqueConstraint('debtor_id', 'e164', name=op.f('uq_phones_debtor_id_e164'))
    )
    with op.batch_alter_table('phones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_phones_debtor_id'), ['debtor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_phones_e164'), ['e164'], unique=False)

    op.create_table('attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('phone_id', sa.Integer(), nullable=True),
    sa.Column('number_e164', sa.String(length=20), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('started_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.Column('answered_at', cases.models.base.UtcDateTime(), nullable=True),
    sa.Column('ended_at', cases.models.base.UtcDateTime(), nullable=True),
    sa.Column('sip_code', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.Enum('in_flight', 'answered', 'machine', 'busy', 'no_answer', 'rejected', 'invalid_number', 'unavailable', 'network_error', 'cancelled', 'abandoned', 'interrupted', name='attemptoutcome', native_enum=False, length=24), nullable=False),
    sa.Column('conversation', sa.Boolean(), nullable=False),
    sa.Column('disposition', sa.String(length=40), nullable=True),
    sa.Column('recording_path', sa.String(length=500), nullable=True),
    sa.Column('receipt', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_attempts_account_id_accounts')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_attempts_agent_id_users')),
    sa.ForeignKeyConstraint(['phone_id'], ['phones.id'], name=op.f('fk_attempts_phone_id_phones')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attempts'))
    )
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.create_index('ix_attempts_account_started', ['account_id', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_attempts_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index('ix_attempts_number_started', ['number_e164', 'started_at'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('channel', sa.Enum('bank_transfer', 'alipay', 'wechat_pay', 'counter', 'card', 'other', name='paymentchannel', native_enum=False, length=24), nullable=False),
    sa.Column('external_ref', sa.String(length=100), nullable=True),
    sa.Column('created_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_payments_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('channel', 'external_ref', name=op.f('uq_payments_channel_external_ref'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_account_id'), ['account_id'], unique=False)

    op.create_table('repayment_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('total_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('installment_count', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('agent', 'ivr', 'web', 'import', name='source', native_enum=False, length=24), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'active', 'completed', 'broken', 'cancelled', name='planstatus', native_enum=False, length=24), nullable=False),
    sa.Column('created_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_repayment_plans_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repayment_plans'))
    )
    with op.batch_alter_table('repayment_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repayment_plans_account_id'), ['account_id'], unique=False)

    op.create_table('installments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('paid_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('status', sa.Enum('due', 'paid', 'partial', 'missed', name='installmentstatus', native_enum=False, length=24), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['repayment_plans.id'], name=op.f('fk_installments_plan_id_repayment_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_installments')),
    sa.UniqueConstraint('plan_id', 'seq', name=op.f('uq_installments_plan_id_seq'))
    )
    op.create_table('notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('attempt_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_notes_account_id_accounts')),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_notes_attempt_id_attempts')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_notes_author_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notes'))
    )
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notes_account_id'), ['account_id'], unique=False)

    op.create_table('promises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('promised_for', sa.Date(), nullable=False),
    sa.Column('source', sa.Enum('agent', 'ivr', 'web', 'import', name='source', native_enum=False, length=24), nullable=False),
    sa.Column('status', sa.Enum('pending', 'kept', 'broken', 'cancelled', name='promisestatus', native_enum=False, length=24), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', cases.models.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_promises_account_id_accounts')),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_promises_attempt_id_attempts')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_promises_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promises'))
    )
    with op.batch_alter_table('promises', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_promises_account_id'), ['account_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('promises', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_promises_account_id'))

    op.drop_table('promises')
    with op.batch_alter_table('notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notes_account_id'))

    op.drop_table('notes')
    op.drop_table('installments')
    with op.batch_alter_table('repayment_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_repayment_plans_account_id'))

    op.drop_table('repayment_plans')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_account_id'))

    op.drop_table('payments')
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_attempts_number_started')
        batch_op.drop_index(batch_op.f('ix_attempts_campaign_id'))
        batch_op.drop_index('ix_attempts_account_started')

    op.drop_table('attempts')
    with op.batch_alter_table('phones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_phones_e164'))
        batch_op.drop_index(batch_op.f('ix_phones_debtor_id'))

    op.drop_table('phones')
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_addresses_region'))
        batch_op.drop_index(batch_op.f('ix_addresses_debtor_id'))

    op.drop_table('addresses')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_status'))
        batch_op.drop_index(batch_op.f('ix_accounts_product'))
        batch_op.drop_index(batch_op.f('ix_accounts_jurisdiction'))
        batch_op.drop_index(batch_op.f('ix_accounts_due_date'))
        batch_op.drop_index(batch_op.f('ix_accounts_debtor_id'))
        batch_op.drop_index(batch_op.f('ix_accounts_balance'))

    op.drop_table('accounts')
    op.drop_table('users')
    op.drop_table('imports')
    with op.batch_alter_table('debtors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_debtors_national_id'))

    op.drop_table('debtors')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_entity_id'))

    op.drop_table('audit_log')
