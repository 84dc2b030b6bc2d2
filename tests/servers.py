"""Real servers for the integration tests: Dovecot (IMAP) and an aiosmtpd sink (SMTP).

Nothing here is faked: the tests talk to the same Dovecot binary an office would run, started
with a private configuration in a temporary directory so it never touches the system's Dovecot.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from imapclient import IMAPClient

LOOPBACK = "127.0.0.1"
# A dedicated system user owns the test mail: Dovecot refuses to access mail as root.
MAIL_USER = "tonghop-mail"


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, deadline: float, alive=lambda: True) -> bool:
    """True once something accepts connections on port, False at the deadline or if not alive()."""
    while time.monotonic() < deadline:
        if not alive():
            return False
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def make_tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """A private CA and a server certificate for localhost/127.0.0.1 signed by it.

    A real CA + leaf pair (rather than one self-signed leaf) keeps verification working under
    strict X.509 checks of newer Python/OpenSSL versions. Returns (ca_cert, cert, key).
    """
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = directory / "ca.key", directory / "ca.pem"
    key, csr, cert = directory / "server.key", directory / "server.csr", directory / "server.pem"
    ext = directory / "server.ext"
    ext.write_text(
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid\n"
    )
    commands = [
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
         "-keyout", ca_key, "-out", ca_cert, "-subj", "/CN=tonghop test CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
         "-subj", "/CN=localhost"],
        ["openssl", "x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key,
         "-CAcreateserial", "-days", "3650", "-out", cert, "-extfile", ext],
    ]
    for command in commands:
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"openssl failed: {' '.join(map(str, command))}\n{result.stderr}")
    return ca_cert, cert, key


def _mail_owner() -> tuple[str, int, int]:
    """(name, uid, gid) of the system user that owns the test mailboxes, created once.

    Dovecot will not run mail processes as root, and its master needs root to switch to that
    user: the test suite runs as root (`make test` does).
    """
    if os.geteuid() != 0:
        raise RuntimeError(
            "The test Dovecot needs root (it runs mail processes as the system user "
            f"{MAIL_USER!r}): run `make test` as root."
        )
    try:
        entry = pwd.getpwnam(MAIL_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
             "--shell", "/usr/sbin/nologin", "--user-group", MAIL_USER],
            check=True, capture_output=True,
        )
        entry = pwd.getpwnam(MAIL_USER)
    return entry.pw_name, entry.pw_uid, entry.pw_gid


@dataclass
class StoredMessage:
    raw: bytes
    internaldate: datetime
    flags: tuple[bytes, ...]


class Dovecot:
    """A private Dovecot on loopback: plain IMAP + STARTTLS on `port`, implicit TLS on `tls_port`."""

    def __init__(self, binary: str | None = None, *, oauth2_introspection_url: str | None = None) -> None:
        """With oauth2_introspection_url, logins by XOAUTH2/OAUTHBEARER are checked by Dovecot's
        oauth2 passdb against that RFC 7662 token introspection endpoint (PLAIN still works)."""
        self.oauth2_introspection_url = oauth2_introspection_url
        binary = binary or shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not os.path.isfile(binary):
            raise RuntimeError(
                "Dovecot is not installed: run `make test` as root (it installs it) "
                "or `apt-get install dovecot-imapd`."
            )
        self.binary = binary
        self.owner, self.uid, self.gid = _mail_owner()
        self.host = LOOPBACK
        self.port = free_port()
        self.tls_port = free_port()
        # Under /tmp (not pytest's 0700 tmp dir) so that the mail user can reach its mail.
        self.root = Path(tempfile.mkdtemp(prefix="tonghop-dovecot-"))
        try:
            os.chmod(self.root, 0o755)
            self.home_root = self.root / "home"
            self.home_root.mkdir()
            os.chown(self.home_root, self.uid, self.gid)
            # One passwd-file per user: Dovecot rereads a shared file at most once a second, so
            # a user added right after a login would not be found yet.
            self.passwd_dir = self.root / "passwd.d"
            self.passwd_dir.mkdir()
            self.log_file = self.root / "dovecot.log"
            self.ca_file, self.cert_file, self.key_file = make_tls_files(self.root / "tls")
            self.config_file = self.root / "dovecot.conf"
            self.config_file.write_text(self._config())
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise
        self._process: subprocess.Popen | None = None
        self._started_once = False
        self._passwords: dict[str, str] = {}
        self._users = 0
        self._lock = threading.Lock()

    # -- configuration ------------------------------------------------------------------------

    def _config(self) -> str:
        lines = [
            f"instance_name = tonghop-test-{self.root.name}",
            f"base_dir = {self.root}/run",
            f"state_dir = {self.root}/state",
            f"log_path = {self.log_file}",
            f"info_log_path = {self.log_file}",
            "protocols = imap",
            f"listen = {LOOPBACK}",
            "disable_plaintext_auth = no",
            "auth_mechanisms = plain login" + (" xoauth2 oauthbearer" if self.oauth2_introspection_url else ""),
            "ssl = yes",
            f"ssl_cert = <{self.cert_file}",
            f"ssl_key = <{self.key_file}",
            "ssl_dh = </usr/share/dovecot/dh.pem" if os.path.exists("/usr/share/dovecot/dh.pem")
            else "",
            f"first_valid_uid = {min(self.uid, 500)}",
            f"first_valid_gid = {min(self.gid, 500)}",
            "mail_location = maildir:~/Maildir",
            # No auto-created folders: the daemon must create its own ("Đã xử lý"...).
            "namespace inbox {\n  inbox = yes\n}",
            "passdb {\n  driver = passwd-file\n"
            f"  args = scheme=PLAIN username_format=%u {self.passwd_dir}/%u\n}}",
            "userdb {\n  driver = static\n"
            f"  args = uid={self.uid} gid={self.gid} home={self.home_root}/%u\n}}",
            "service imap-login {\n"
            f"  inet_listener imap {{\n    address = {LOOPBACK}\n    port = {self.port}\n  }}\n"
            f"  inet_listener imaps {{\n    address = {LOOPBACK}\n    port = {self.tls_port}\n"
            "    ssl = yes\n  }\n}",
            # Fast tests: no per-IP connection limit, and a wrong-password test must not slow
            # down every later login from loopback (auth penalty, failure delay).
            "mail_max_userip_connections = 100",
            "auth_failure_delay = 0",
        ]
        if self.oauth2_introspection_url:
            oauth2_conf = self.root / "dovecot-oauth2.conf.ext"
            oauth2_conf.write_text(
                "introspection_mode = post\n"
                f"introspection_url = {self.oauth2_introspection_url}\n"
                "username_attribute = username\nactive_attribute = active\nactive_value = true\n"
            )
            # After the passwd-file passdb: a token is no password there, so Dovecot goes on to this one.
            lines.append(f"passdb {{\n  driver = oauth2\n  args = {oauth2_conf}\n}}")
        lines.append("service anvil {\n  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n}")
        return "\n".join(line for line in lines if line) + "\n"

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        stderr = open(self.root / "dovecot.stderr", "ab")
        try:
            # -F: stay in the foreground so that we own the master process and can stop it.
            self._process = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.config_file)],
                stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr,
                start_new_session=True,
            )
        finally:
            stderr.close()
        deadline = time.monotonic() + 20
        ready = all(
            wait_for_port(port, deadline, alive=lambda: self.running)
            for port in (self.port, self.tls_port)
        )
        if ready:
            self._started_once = True
            return
        self.stop()
        if not self._started_once and "in use" in self.log_tail():
            # Another program took a port between free_port() and bind(): take new ones.
            # (Only before the first start: restart() promises the same ports.)
            self.port, self.tls_port = free_port(), free_port()
            self.config_file.write_text(self._config())
            self._started_once = True
            self.start()
            return
        raise RuntimeError("Dovecot did not start.\n" + self.log_tail())

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        # The master's children (imap, auth, login) are in its session: make sure none survive
        # holding the ports, so that a restart on the same ports works at once.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self._port_open():
            time.sleep(0.05)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop and remove every file."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _port_open(self) -> bool:
        try:
            with socket.create_connection((LOOPBACK, self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def log_tail(self, lines: int = 40) -> str:
        text = ""
        for path in (self.root / "dovecot.stderr", self.log_file):
            if path.exists():
                text += f"--- {path.name}\n" + "\n".join(
                    path.read_text(errors="replace").splitlines()[-lines:]
                ) + "\n"
        return text

    # -- users and mail -----------------------------------------------------------------------

    def new_user(self) -> tuple[str, str]:
        """A fresh user with an empty mailbox (its own passwd-file, read at first login)."""
        with self._lock:
            self._users += 1
            user = f"user{self._users}-{secrets.token_hex(3)}"
        password = secrets.token_urlsafe(12)
        (self.passwd_dir / user).write_text(f"{user}:{{PLAIN}}{password}::::::\n")
        self._passwords[user] = password
        return user, password

    def maildir(self, user: str) -> Path:
        return self.home_root / user / "Maildir"

    def client(self, user: str) -> IMAPClient:
        """A logged-in plain IMAP connection (caller logs out)."""
        client = IMAPClient(self.host, self.port, ssl=False, timeout=10)
        client.normalise_times = False
        client.login(user, self._passwords[user])
        return client

    def append(self, user: str, raw: bytes, internaldate: datetime, folder: str = "INBOX",
               flags: tuple = ()) -> int | None:
        """APPEND raw with that INTERNALDATE; creates folder when absent. Returns the new UID."""
        client = self.client(user)
        try:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            response = client.append(folder, raw, flags=flags, msg_time=internaldate)
        finally:
            client.logout()
        # "[APPENDUID <validity> <uid>] Append completed."
        text = response.decode() if isinstance(response, bytes) else str(response)
        if "APPENDUID" in text:
            return int(text.split("APPENDUID", 1)[1].split("]")[0].split()[1])
        return None

    def list_uids(self, user: str, folder: str = "INBOX") -> list[int]:
        """UIDs in folder, ascending; [] while the folder does not exist (handy when polling)."""
        client = self.client(user)
        try:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            return sorted(client.search("ALL"))
        finally:
            client.logout()

    def messages(self, user: str, folder: str = "INBOX") -> dict[int, StoredMessage]:
        """Every message of folder by UID, with raw bytes, INTERNALDATE and flags ({} while
        the folder does not exist)."""
        client = self.client(user)
        try:
            if not client.folder_exists(folder):
                return {}
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            if not uids:
                return {}
            data = client.fetch(uids, ["BODY.PEEK[]", "INTERNALDATE", "FLAGS"])
        finally:
            client.logout()
        return {
            uid: StoredMessage(item[b"BODY[]"], item[b"INTERNALDATE"], tuple(item[b"FLAGS"]))
            for uid, item in data.items()
            if b"BODY[]" in item
        }

    def folders(self, user: str) -> list[str]:
        client = self.client(user)
        try:
            return sorted(name for _flags, _sep, name in client.list_folders())
        finally:
            client.logout()

    def uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        client = self.client(user)
        try:
            return client.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"]
        finally:
            client.logout()

    def recreate_folder(self, user: str, folder: str = "INBOX") -> None:
        """Delete folder and create it again with the same messages, as an admin restoring a
        backup would: UIDVALIDITY changes and the UIDs are assigned anew.

        IMAP cannot delete INBOX, so INBOX is emptied and its index (dovecot-uidlist) removed:
        Dovecot then gives the folder a new UIDVALIDITY, as after a restore on disk.
        """
        stored = self.messages(user, folder)
        client = self.client(user)
        try:
            if folder.upper() == "INBOX":
                client.select_folder(folder)
                if stored:
                    client.add_flags(list(stored), [b"\\Deleted"], silent=True)
                    client.expunge()
                client.close_folder()
                self._forget_index(self.maildir(user))
            else:
                client.delete_folder(folder)
                client.create_folder(folder)
        finally:
            client.logout()
        # A new session, so that Dovecot rebuilds the index it just lost, then the same mail.
        client = self.client(user)
        try:
            for message in sorted(stored.values(), key=lambda m: m.internaldate):
                flags = tuple(f for f in message.flags if f != b"\\Recent")
                client.append(folder, message.raw, flags=flags, msg_time=message.internaldate)
        finally:
            client.logout()

    @staticmethod
    def _forget_index(maildir: Path) -> None:
        for path in maildir.glob("dovecot*"):
            if path.name.startswith(("dovecot-uidlist", "dovecot.index")):
                path.unlink()


@dataclass
class ImapAccount:
    """One fresh user on a Dovecot, with shortcuts to put mail in and build settings."""

    server: Dovecot
    user: str
    password: str

    def append(self, raw: bytes, internaldate: datetime, folder: str = "INBOX",
               flags: tuple = ()) -> int | None:
        return self.server.append(self.user, raw, internaldate, folder, flags)

    def list_uids(self, folder: str = "INBOX") -> list[int]:
        return self.server.list_uids(self.user, folder)

    def messages(self, folder: str = "INBOX") -> dict[int, StoredMessage]:
        return self.server.messages(self.user, folder)

    def folders(self) -> list[str]:
        return self.server.folders(self.user)

    def recreate_folder(self, folder: str = "INBOX") -> None:
        self.server.recreate_folder(self.user, folder)

    def client(self) -> IMAPClient:
        return self.server.client(self.user)

    def url(self, scheme: str = "imap", folder: str = "INBOX") -> str:
        port = self.server.tls_port if scheme == "imaps" else self.server.port
        return f"{scheme}://{self.user}@{self.server.host}:{port}/{folder}"

    def settings(self, scheme: str = "imap", **changes):
        """MailboxSettings for this account (plain, imaps or imap+starttls, trusting the
        test CA); keyword arguments override any field."""
        from daemon.config import MailboxSettings

        folder = changes.pop("folder", "INBOX")
        values = dict(
            url=self.url(scheme, folder), scheme=scheme, host=self.server.host,
            port=self.server.tls_port if scheme == "imaps" else self.server.port,
            user=self.user, folder=folder, path=None,
            processed_folder="Đã xử lý", review_folder="Cần xem xét",
            timeout_seconds=10.0, poll_seconds=60.0, idle_renew_seconds=600.0,
            batch_size=20, tls_verify=True, ca_file=self.server.ca_file,
        )
        values.update(changes)
        return MailboxSettings(**values)


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    login: str | None = None  # the AUTH user name, when the client logged in


@dataclass
class _Handler:
    messages: list[ReceivedMail] = field(default_factory=list)
    require_auth: bool = False

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        # AUTH is enforced here rather than with aiosmtpd's auth_required, which warns on
        # every connection when TLS is not required (loopback tests need no TLS).
        if self.require_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        login = getattr(session.auth_data, "login", None)
        self.messages.append(
            ReceivedMail(
                envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content),
                login.decode() if isinstance(login, bytes) else login,
            )
        )
        return "250 OK"


@dataclass
class _OAuth2Handler(_Handler):
    """Also AUTH XOAUTH2, checked against `tokens` (user -> the tokens that are valid now), the
    way Gmail and Microsoft 365 do: a refused token gets a 334 with an error JSON, then 535."""

    tokens: dict = field(default_factory=dict)
    seen: list = field(default_factory=list)

    async def auth_XOAUTH2(self, server, args):  # noqa: N802 (aiosmtpd finds auth_<MECHANISM>)
        import base64

        from aiosmtpd.smtp import AuthResult

        blob = args[1] if len(args) > 1 else ""
        try:
            fields = dict(part.split("=", 1) for part in base64.b64decode(blob).decode().split("\x01") if "=" in part)
        except ValueError:
            return AuthResult(success=False)
        user, token = fields.get("user"), fields.get("auth", "").removeprefix("Bearer ")
        self.seen.append((user, token))
        if token in self.tokens.get(user, ()):
            return AuthResult(success=True, auth_data=type("Login", (), {"login": user})())
        await server.challenge_auth('{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}')
        return AuthResult(success=False, handled=False)


class SmtpSink:
    """An SMTP server on loopback that keeps every message it receives in `messages`.

    With user and password it requires AUTH (PLAIN/LOGIN, allowed without TLS on loopback).
    stop() then start() listens again on the same port, as a mail server back from an outage.
    """

    def __init__(self, user: str | None = None, password: str | None = None, *,
                 oauth2_tokens: dict | None = None) -> None:
        self.host = LOOPBACK
        self.port = free_port()
        self.user = user
        self.password = password
        if oauth2_tokens is not None:  # AUTH XOAUTH2 only, for these tokens
            self._handler = _OAuth2Handler(require_auth=True, tokens=oauth2_tokens)
        else:
            self._handler = _Handler(require_auth=user is not None)
        self._controller = None
        self._started_once = False

    @property
    def messages(self) -> list[ReceivedMail]:
        return self._handler.messages

    @property
    def running(self) -> bool:
        return self._controller is not None

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.user
            and auth_data.password.decode() == self.password
        )
        # handled=False: aiosmtpd then sends the usual 235 / 535 reply itself.
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        if self._controller is not None:
            return
        kwargs: dict = {"enable_SMTPUTF8": True}
        if self.user is not None or isinstance(self._handler, _OAuth2Handler):
            kwargs.update(authenticator=self._authenticate, auth_require_tls=False)
        if isinstance(self._handler, _OAuth2Handler):
            kwargs.update(auth_exclude_mechanism=["PLAIN", "LOGIN"])
        deadline = time.monotonic() + 10
        while True:
            # A new Controller each time: one that was stopped cannot be started again.
            controller = Controller(self._handler, hostname=self.host, port=self.port, **kwargs)
            try:
                controller.start()
                break
            except (OSError, RuntimeError):
                if not self._started_once:
                    self.port = free_port()  # taken by another program meanwhile
                elif time.monotonic() > deadline:
                    raise
                time.sleep(0.1)  # after stop() the port may be held for a moment
        self._started_once = True
        self._controller = controller

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def clear(self) -> None:
        self.messages.clear()


def ssl_context(ca_file: Path | None) -> ssl.SSLContext:
    """A client context trusting only the test CA."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
