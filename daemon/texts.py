"""Every sentence the daemon itself writes for a person (reasons, CLI output), in one table.

Emails and drafts come from templates/; these are the short texts recorded as a message's reason
or printed by the commands. Keeping them together keeps the wording consistent and reviewable.
"""
from __future__ import annotations

from parsers.doc_types import TYPE_NAMES as _ND30_TYPES

# Type code -> the type's name in a sentence ("BC" -> "Báo cáo"): Phụ lục III of ND30 as parsers/
# reads it, plus "CV" for a công văn (which has no code of its own).
TYPE_NAMES: dict[str, str] = {code: name.capitalize() for name, code in _ND30_TYPES.items()} | {"CV": "Công văn"}

TEXTS = {
    # why a message is ignored (not a submission)
    "ignored.own": "Thư do chính văn phòng hoặc tonghop gửi ({address}); không xử lý để tránh vòng lặp thư.",
    "ignored.auto_submitted": "Thư trả lời tự động (Auto-Submitted: {value}); không phải văn bản báo cáo.",
    "ignored.auto_reply": "Thư trả lời tự động ({detail}); không phải văn bản báo cáo.",
    "ignored.precedence": "Thư gửi hàng loạt (Precedence: {value}); không phải văn bản báo cáo.",
    "ignored.list": "Thư từ danh sách thư ({value}); không phải văn bản báo cáo.",
    "ignored.null_sender": "Thư báo lỗi chuyển phát (địa chỉ trả về rỗng); không phải văn bản báo cáo.",
    "ignored.mailer_daemon": "Thư báo lỗi chuyển phát từ {address}; không phải văn bản báo cáo.",
    "ignored.report": "Báo cáo chuyển phát thư ({value}); không phải văn bản báo cáo.",
    "ignored.courtesy": "Thư trả lời xác nhận đã nhận (không kèm văn bản); không cần xử lý.",
    # why a message needs a person
    "review.no_sender": "Không đọc được địa chỉ người gửi; cần cán bộ xem xét.",
    "review.unknown_sender": "Địa chỉ {address} chưa được khai báo cho đơn vị nào; cần cán bộ xem xét.",
    "review.unknown_sender_issuer": (
        "Địa chỉ {address} chưa được khai báo cho đơn vị nào; văn bản ghi cơ quan ban hành là "
        "«{issuer}», có thể là đơn vị «{unit}»; cần cán bộ xác nhận."
    ),
    "review.not_authenticated": "Thư mang địa chỉ của {unit} nhưng chưa được xác thực: {reason} Cần cán bộ xem xét.",
    "review.no_attachment": "Thư của {unit} không có tệp đính kèm; cần cán bộ xem xét.",
    "review.no_readable": "Thư của {unit} không có tệp nào đọc được: {problems}",
    "review.issuer_mismatch": (
        "Thư gửi từ địa chỉ của {unit} nhưng văn bản «{file}» ghi cơ quan ban hành là «{issuer}»; "
        "cần cán bộ xem xét."
    ),
    "review.unmatched": "Thư của {unit} có tệp nhưng không văn bản nào khớp với yêu cầu báo cáo đang thu: {files}",
    "review.message_problems": "Thư bị lỗi: {problems}",
    # recorded
    "recorded.attachments": "Đã ghi nhận {count} tệp đính kèm của {unit}.",
    "recorded.submissions": "Đã ghi nhận cho {unit}: {items}.",
    "recorded.trusted_issuer": "Ghi nhận theo cơ quan ban hành trên văn bản ({issuer}) vì cấu hình cho phép.",
    "outbox.withdrawn": "Không gửi nữa: đơn vị đã gửi đủ văn bản trong lúc thư nhắc còn chờ gửi.",
    # failures
    "failed.exception": "Lỗi khi xử lý thư: {error}. Dùng «tonghop reprocess {id}» để xử lý lại.",
    "failed.too_many_attempts": (
        "Thư đã được xử lý {count} lần mà không xong (có thể gây treo hoặc sập dịch vụ); "
        "đã chuyển sang thư mục cần xem xét."
    ),
    "failed.archive_missing": "Không tìm thấy bản lưu nguyên gốc của thư (tệp {path}).",
    # answers (acknowledgement, review notice) a broken mail template kept from being written
    "answer.failed": (
        "Thư {id}: chưa viết được thư trả lời vì mẫu thư bị lỗi ({error}). Quyết định về thư đã được ghi; "
        "thư trả lời được giữ lại và sẽ được viết khi mẫu thư được sửa."
    ),
    "answer.written": "Thư {id}: đã viết thư trả lời còn chờ (mẫu thư đã được sửa).",
    "notice.failed": (
        "Chưa viết được một thông báo cho văn phòng vì mẫu thư bị lỗi ({error}); thông báo này bị bỏ qua. "
        "Hãy sửa mẫu thư (chạy «tonghop check-config» để kiểm tra)."
    ),
    # the jobs of each pass, by name, and why one failed
    "job.refresh_tracking": "cập nhật sổ theo dõi (Excel)",
    "job.retry_answers": "viết thư trả lời còn chờ",
    "job.queue_chases": "xếp thư nhắc nộp",
    "job.queue_digest": "xếp bản tin hằng ngày",
    "job.write_drafts": "viết dự thảo tổng hợp",
    "job.send_outbox": "gửi thư",
    "job.failed": "Việc «{job}» bị lỗi: {error}. Sẽ làm lại ở lượt sau.",
    "draft.failed": "Không viết được dự thảo tổng hợp {campaign} kỳ {cycle}: {error}",
    "draft.template": "mẫu Word {path} bị hỏng hoặc không dùng được ({error}); hãy thay bằng mẫu đúng",
    # reprocess: a message whose archived bytes cannot be read is left exactly as recorded
    "reprocess.archive_missing": (
        "Thư {id}: không đọc lại được vì không mở được bản lưu nguyên gốc (tệp {path}: {error}); "
        "quyết định và các văn bản đã ghi nhận của thư này được giữ nguyên."
    ),
    "reprocess.unreadable": (
        "Không đọc lại được {count} thư (mã {ids}) vì thiếu bản lưu nguyên gốc trong {archive}. "
        "Hãy khôi phục thư mục lưu trữ từ bản sao lưu (hoặc gắn lại ổ đĩa) rồi chạy lại lệnh."
    ),
    # the ledger itself: damaged, replaced under the service, or already in use
    "ledger.corrupt": (
        "Sổ theo dõi {path} bị hỏng ({error}); tonghop dừng để không ghi thêm vào tệp hỏng, thư vẫn nằm "
        "nguyên trong hộp thư. Cách khôi phục: dừng dịch vụ (systemctl stop tonghop), đổi tên tệp hỏng "
        "(mv {path} {backup}, kèm các tệp -wal và -shm nếu có), rồi chép bản sao lưu gần nhất vào {path}; "
        "nếu không có bản sao lưu, cứu dữ liệu bằng lệnh «sqlite3 {backup} .recover | sqlite3 {path}». "
        "Sau đó chạy lại tonghop: thư chưa ghi nhận sẽ được xử lý lại từ hộp thư."
    ),
    "ledger.replaced": (
        "Tệp sổ theo dõi {path} đã bị thay bằng tệp khác trong lúc tonghop đang chạy (ví dụ khôi phục "
        "bản sao lưu); tonghop dừng trước khi chuyển thêm thư nào để không ghi vào tệp cũ. Chạy lại "
        "tonghop để dùng tệp mới (systemd tự chạy lại sau ít giây)."
    ),
    "ledger.deleted": (
        "Tệp sổ theo dõi {path} đã bị xóa hoặc đổi tên trong lúc tonghop đang chạy; tonghop dừng trước "
        "khi chuyển thêm thư nào. Hãy đặt lại tệp (hoặc bản sao lưu) vào chỗ cũ rồi chạy lại tonghop."
    ),
    "instance.running": (
        "tonghop đang chạy rồi (tiến trình số {pid}) trên cùng thư mục dữ liệu (khóa {path}); "
        "không chạy thêm một tiến trình thứ hai. Dừng tiến trình kia trước nếu muốn chạy lại."
    ),
    # storage: the archive or the ledger cannot be written (the message stays in the mailbox)
    "storage.archive": (
        "Không lưu được bản gốc của thư vào {path}: {error}. Thư vẫn nằm trong hộp thư và chưa được ghi nhận; "
        "tonghop sẽ tự xử lý tiếp khi ghi được."
    ),
    "storage.ledger": (
        "Không ghi được vào sổ theo dõi {path}: {error}. Thư vẫn nằm trong hộp thư và chưa được ghi nhận; "
        "tonghop sẽ tự xử lý tiếp khi ghi được."
    ),
    "storage.cannot_start": (
        "Không ghi được vào sổ theo dõi {path}: {error}. tonghop không chạy vì không ghi nhận được thư nào; "
        "thư vẫn nằm nguyên trong hộp thư. Hãy sửa lỗi này rồi chạy lại."
    ),
    "storage.job": (
        "Không ghi được vào sổ theo dõi {path}: {error}. Việc nhắc nộp, bản tin và gửi thư sẽ được "
        "làm lại ở lượt sau."
    ),
    "storage.leftover": "Đã xóa tệp tạm còn sót lại sau một lần tonghop bị dừng đột ngột: {path}",
    "storage.draft": "Không ghi được dự thảo vào {path}: {error}.",
    "storage.job_file": (
        "Không {job} được vì không ghi được vào {path}: {error}. Việc này sẽ được làm lại ở lượt sau; "
        "các thư vẫn được nhận và ghi nhận bình thường."
    ),
    "recover.archive_missing": (
        "Thư {id} đang xử lý dở nhưng không còn bản lưu nguyên gốc (tệp {path}); thư được giữ ở trạng "
        "thái đang xử lý và sẽ được tải lại từ hộp thư ở lượt này."
    ),
    "storage.retry": "{error} Thử lại sau {seconds:.0f} giây.",
    "storage.full": "ổ đĩa đã đầy",
    "storage.read_only": "ổ đĩa hoặc tệp chỉ cho đọc (kiểm tra quyền ghi và cách gắn ổ đĩa)",
    "storage.no_permission": "tài khoản chạy tonghop không có quyền ghi",
    "storage.not_a_folder": "một thư mục trong đường dẫn đã bị thay bằng một tệp (hoặc ngược lại)",
    "storage.cannot_open": "không mở được tệp (thư mục không tồn tại hoặc không có quyền truy cập)",
    # outgoing mail: why a mail was not (yet) delivered, for the outbox row and the office
    "mailer.own_only": "Không gửi: mọi người nhận ({addresses}) đều là địa chỉ của chính văn phòng; "
                "gửi đi sẽ làm thư quay vòng.",
    "mailer.limited": "Tạm hoãn đến {until}: hôm nay đã gửi đủ {limit} thư tới {addresses}.",
    "mailer.summarized": "Không gửi riêng: hôm nay số thư tới {addresses} đã đến mức tối đa {limit} thư; "
                         "thư này được gộp vào thư tổng hợp các thư cần xem xét.",
    "mailer.summary_wait": "Tạm hoãn đến {at}: hôm nay số thư tới {addresses} đã đến mức tối đa {limit} thư; "
                           "thư này sẽ được gộp vào thư tổng hợp các thư cần xem xét gửi lúc đó.",
    "mailer.limited_some": "Không gửi tới {addresses}: hôm nay đã gửi đủ {limit} thư tới địa chỉ này.",
    "mailer.refused_some": "Máy chủ thư từ chối người nhận: {details}.",
    "mailer.gave_up": "Đã ngừng thử gửi sau {hours:g} giờ. Lỗi cuối cùng: {error}",
    "mailer.not_tried": "Chưa thử gửi vì máy chủ thư đang không dùng được: {error}",
    "mailer.connect": "Không kết nối được máy chủ thư {where}: {error}",
    "mailer.timeout": "Máy chủ thư {where} không trả lời sau {seconds:g} giây.",
    "mailer.tls": "Lỗi mã hóa TLS với máy chủ thư {where}: {error}",
    "mailer.no_starttls": "Máy chủ thư {where} không hỗ trợ STARTTLS; cấu hình yêu cầu mã hóa "
                   "nên tonghop không gửi thư không mã hóa.",
    "mailer.no_password": "Chưa có mật khẩu SMTP cho tài khoản {user} (khai báo password_env hoặc password_file).",
    "mailer.no_auth": "Máy chủ thư {where} không cho đăng nhập (không hỗ trợ AUTH).",
    "mailer.oauth2": "Không lấy được mã truy cập OAuth2 để gửi thư qua {where}: {error}",
    "mailer.auth": "Máy chủ thư {where} từ chối đăng nhập của {user}: {reply}",
    "mailer.auth_required": "Máy chủ thư yêu cầu đăng nhập (khai báo tài khoản trong [smtp] url): {reply}",
    "mailer.greeting": "Máy chủ thư {where} từ chối phiên làm việc: {reply}",
    "mailer.disconnected": "Máy chủ thư {where} ngắt kết nối giữa chừng: {error}",
    "mailer.rejected": "Máy chủ thư từ chối {stage}: {reply}",
    "mailer.deferred": "Máy chủ thư tạm thời chưa nhận {stage}: {reply}",
    "utf8": "Địa chỉ có ký tự ngoài ASCII ({addresses}) nhưng máy chủ thư không hỗ trợ SMTPUTF8.",
    "mailer.unexpected": "Lỗi không lường trước khi gửi thư: {error}",
    "mailer.dir": "Không ghi được tệp thư vào thư mục {path}: {error}",
    # the clerk's actions (daemon/desk.py: the web desk, `tonghop resolve`)
    "desk.sender_confirmed": "Cán bộ {who} xác nhận người gửi là {unit}.",
    "desk.file_confirmed": "Cán bộ {who} xác nhận: {items}.",
    "desk.approved_address": "Địa chỉ {address} đã được cán bộ xác nhận là của {unit} (chưa chép vào units.toml).",
    "desk.ignored": "Cán bộ {who} xác định thư này không phải văn bản báo cáo.{note}",
    "desk.resend": "Cán bộ {who} đã đề nghị người gửi gửi lại văn bản.{note}",
    "desk.note": " Ghi chú: {note}",
    "desk.no_who": "Cần ghi tên cán bộ thực hiện.",
    "desk.no_message": "Không có thư mã {id}.",
    "desk.claimed": "Thư {id} đang được xử lý; đề nghị thử lại sau ít phút.",
    "desk.no_unit": "Không có đơn vị mã «{unit}» trong units.toml.",
    "desk.no_campaign": "Không có chiến dịch mã «{campaign}»; các chiến dịch: {known}.",
    "desk.no_requirement": "Chiến dịch «{campaign}» không có yêu cầu mã «{requirement}»; các yêu cầu: {known}.",
    "desk.which_campaign": "Yêu cầu «{requirement}» có ở nhiều chiến dịch ({known}); đề nghị ghi rõ chiến dịch.",
    "desk.not_in_campaign": "Đơn vị «{unit}» không thuộc chiến dịch «{campaign}».",
    "desk.no_attachment": "Thư {id} không có tệp đính kèm số {seq}; các tệp: {known}.",
    "desk.no_sender": "Thư {id} không có địa chỉ người gửi, nên không thể {what}.",
    "desk.address_taken": (
        "Địa chỉ {address} đã được khai báo cho đơn vị «{other}» trong units.toml; muốn đổi thì sửa units.toml."
    ),
    "desk.automatic": "Thư {id} là thư tự động ({reason}); không gửi thư đề nghị gửi lại để tránh vòng lặp thư.",
    "desk.remembered": "Đã ghi nhớ địa chỉ {address} là của {unit}; thư sau từ địa chỉ này được ghi nhận ngay.",
    "desk.draft_written": "Cán bộ {who} đã cho viết dự thảo «{campaign}» kỳ {cycle}: {paths}",
    "desk.not_applied": "Đã ghi lại thao tác nhưng chưa xử lý lại được thư: {error}",
    "desk.pending_addresses": (
        "Địa chỉ đã được cán bộ xác nhận trên bàn làm việc web nhưng chưa có trong units.toml "
        "(đang có hiệu lực từ sổ theo dõi; nên chép vào units.toml để cấu hình là nơi duy nhất ghi đơn vị):"
    ),
    "desk.pending_line": "  - {address} ({unit}; cán bộ {who} xác nhận lúc {at}, thư {message}): trong mục id = \"{unit_id}\" của units.toml, sửa thành:",
    "desk.pending_conflict": "  - {address}: cán bộ {who} xác nhận là của «{unit}», nhưng units.toml ghi cho «{other}»; units.toml được ưu tiên.",
    "desk.pending_gone": "  - {address}: cán bộ {who} xác nhận là của đơn vị mã «{unit_id}», nhưng đơn vị này không còn trong units.toml.",
    # command output
    "cli.config_ok": "Cấu hình hợp lệ: {dir}",
    "cli.config_bad": "Cấu hình có {count} lỗi (thư mục {dir}):",
    "cli.bad_now": "Giá trị --now «{value}» không hợp lệ; dùng dạng ISO 8601, ví dụ 2024-10-19T08:00",
    "cli.mailbox_down": "Không kết nối được hộp thư: {error}",
    "cli.started": "tonghop {version} khởi động; cấu hình: {dir}; dữ liệu: {storage}",
    "cli.no_config": ("Không tìm thấy thư mục cấu hình tonghop ở {dir} (thư mục có settings.toml). tonghop tìm theo thứ tự: --config, "
                      "biến TONGHOP_CONFIG, {system}, ./config. Tạo cấu hình mới bằng: tonghop init THƯ_MỤC"),
    "cli.init_exists": "{path} đã có; tonghop không ghi đè cấu hình đang dùng. Hãy chọn một thư mục khác.",
    "cli.init_done": ("Đã tạo cấu hình mẫu ở {config} và mẫu thư ở {templates}.\n"
                      "Bước tiếp theo: sửa settings.toml (hộp thư, máy chủ gửi thư, cán bộ nhận thư), units.toml "
                      "(các đơn vị) và campaigns/ (các chiến dịch), rồi chạy: tonghop --config {config} check-config"),
    # systemd's STATUS= line (systemctl status tonghop)
    "systemd.watching": "Đang theo dõi {folder}; lượt gần nhất xử lý {handled} thư, lúc {at}",
}


def t(key: str, **values) -> str:
    return TEXTS[key].format(**values)
