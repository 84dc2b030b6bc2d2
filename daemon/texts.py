"""Every sentence the daemon itself writes for a person (reasons, CLI output), in one table.

Emails and drafts come from templates/; these are the short texts recorded as a message's reason
or printed by the commands. Keeping them together keeps the wording consistent and reviewable.
"""
from __future__ import annotations

from parsers.facts import TYPE_NAMES as _ND30_TYPES

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
    "mailer.auth": "Máy chủ thư {where} từ chối đăng nhập của {user}: {reply}",
    "mailer.auth_required": "Máy chủ thư yêu cầu đăng nhập (khai báo tài khoản trong [smtp] url): {reply}",
    "mailer.greeting": "Máy chủ thư {where} từ chối phiên làm việc: {reply}",
    "mailer.disconnected": "Máy chủ thư {where} ngắt kết nối giữa chừng: {error}",
    "mailer.rejected": "Máy chủ thư từ chối {stage}: {reply}",
    "mailer.deferred": "Máy chủ thư tạm thời chưa nhận {stage}: {reply}",
    "utf8": "Địa chỉ có ký tự ngoài ASCII ({addresses}) nhưng máy chủ thư không hỗ trợ SMTPUTF8.",
    "mailer.unexpected": "Lỗi không lường trước khi gửi thư: {error}",
    "mailer.dir": "Không ghi được tệp thư vào thư mục {path}: {error}",
    # command output
    "cli.config_ok": "Cấu hình hợp lệ: {dir}",
    "cli.config_bad": "Cấu hình có {count} lỗi (thư mục {dir}):",
    "cli.bad_now": "Giá trị --now «{value}» không hợp lệ; dùng dạng ISO 8601, ví dụ 2024-10-19T08:00",
    "cli.mailbox_down": "Không kết nối được hộp thư: {error}",
}


def t(key: str, **values) -> str:
    return TEXTS[key].format(**values)
