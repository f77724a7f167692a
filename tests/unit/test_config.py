import pytest

from config import ConfigError, DevelopmentConfig, ProductionConfig, TestConfig, load_config


def test_production_refuses_to_start_without_secret_key_and_database_url():
    with pytest.raises(ConfigError, match="SECRET_KEY, DATABASE_URL"):
        load_config("production", environ={})


def test_production_refuses_to_start_without_database_url_alone():
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_config("production", environ={"SECRET_KEY": "s3cret"})


def test_production_with_secrets_has_secure_cookies_and_hsts():
    config = load_config("production", environ={"SECRET_KEY": "s3cret", "DATABASE_URL": "postgresql://db/x"})
    assert isinstance(config, ProductionConfig)
    assert config.SESSION_COOKIE_SECURE and config.REMEMBER_COOKIE_SECURE and config.HSTS
    assert config.SESSION_COOKIE_HTTPONLY and config.SESSION_COOKIE_SAMESITE == "Lax"


def test_development_defaults_to_a_sqlite_file_under_instance(tmp_path):
    config = DevelopmentConfig({"INSTANCE_PATH": str(tmp_path)})
    assert f"sqlite:///{tmp_path / 'crowdfund.sqlite3'}" == config.DATABASE_URL
    assert str(tmp_path / "outbox") == config.MAIL_OUTBOX_DIR


def test_environment_overrides_are_cast_to_the_setting_type():
    config = TestConfig({"MAIL_PORT": "2525", "MAIL_USE_TLS": "true", "MAIL_TIMEOUT": "2.5"})
    assert config.MAIL_PORT == 2525 and config.MAIL_USE_TLS is True and config.MAIL_TIMEOUT == 2.5


def test_api_metadata_cannot_be_overridden_from_the_environment():
    assert TestConfig({"API_VERSION": "v9"}).API_VERSION == "v1"


def test_unknown_configuration_name_is_a_clear_error():
    with pytest.raises(ConfigError, match="Unknown configuration 'staging'"):
        load_config("staging", environ={})
