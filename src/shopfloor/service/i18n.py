"""UI strings of the dashboard in English and Korean (one catalogue; templates call ``t``)."""

from __future__ import annotations

LANGUAGES = ("en", "ko")

CATALOGUE: dict[str, dict[str, str]] = {
    "title": {"en": "shopfloor", "ko": "shopfloor"},
    "fleet": {"en": "Fleet", "ko": "설비 현황"},
    "models": {"en": "Models", "ko": "모델"},
    "login": {"en": "Log in", "ko": "로그인"},
    "logout": {"en": "Log out", "ko": "로그아웃"},
    "username": {"en": "User name", "ko": "사용자 이름"},
    "password": {"en": "Password", "ko": "비밀번호"},
    "bad_login": {
        "en": "Wrong user name or password",
        "ko": "사용자 이름 또는 비밀번호가 틀립니다",
    },
    "assets": {"en": "Assets", "ko": "설비"},
    "open_alerts": {"en": "Open alerts", "ko": "미처리 경보"},
    "no_alerts": {"en": "No open alerts", "ko": "미처리 경보 없음"},
    "state_ok": {"en": "Healthy", "ko": "정상"},
    "state_info": {"en": "Note", "ko": "참고"},
    "state_warning": {"en": "Warning", "ko": "주의"},
    "state_alarm": {"en": "Alarm", "ko": "경보"},
    "state_critical": {"en": "Critical", "ko": "위험"},
    "severity": {"en": "Severity", "ko": "심각도"},
    "asset": {"en": "Asset", "ko": "설비"},
    "summary": {"en": "What", "ko": "내용"},
    "since": {"en": "Since", "ko": "발생"},
    "status": {"en": "Status", "ko": "상태"},
    "status_open": {"en": "open", "ko": "미확인"},
    "status_acknowledged": {"en": "acknowledged", "ko": "확인됨"},
    "status_closed": {"en": "closed", "ko": "종료"},
    "acknowledge": {"en": "Acknowledge", "ko": "확인"},
    "confirm": {"en": "Confirmed", "ko": "고장 확인"},
    "false_alarm": {"en": "False alarm", "ko": "오경보"},
    "found": {"en": "What was found", "ko": "점검 결과"},
    "diagnosis": {"en": "Diagnosis", "ko": "진단"},
    "evidence": {"en": "Evidence", "ko": "근거"},
    "suggested_action": {"en": "Suggested action", "ko": "권장 조치"},
    "latest": {"en": "Latest results", "ko": "최근 결과"},
    "health": {"en": "Health", "ko": "상태"},
    "grade": {"en": "Defect grade", "ko": "결함 등급"},
    "channels": {"en": "Channels", "ko": "채널"},
    "history": {"en": "History", "ko": "이력"},
    "data_quality": {"en": "Data quality", "ko": "데이터 품질"},
    "no_quality": {"en": "No data-quality issues", "ko": "데이터 품질 문제 없음"},
    "dead_letters": {"en": "Messages that could not be read", "ko": "읽을 수 없는 메시지"},
    "no_dead_letters": {"en": "Every message was read", "ko": "모든 메시지를 읽었습니다"},
    "precision": {"en": "Alert precision per detector", "ko": "감지기별 경보 정확도"},
    "detector": {"en": "Detector", "ko": "감지기"},
    "closed": {"en": "Closed", "ko": "종료"},
    "registered": {"en": "Registered models", "ko": "등록된 모델"},
    "live": {"en": "live", "ko": "실시간"},
    "offline": {"en": "reconnecting", "ko": "재연결 중"},
    "role": {"en": "Role", "ko": "권한"},
    "none": {"en": "none yet", "ko": "아직 없음"},
    "link_used": {
        "en": "This one-time login link was already used or has expired",
        "ko": "이 일회용 로그인 링크는 이미 사용되었거나 만료되었습니다",
    },
    "precision_over_time": {"en": "Precision per month", "ko": "월별 정확도"},
    "month": {"en": "Month", "ko": "월"},
    "parent": {"en": "Previous version", "ko": "이전 버전"},
    "serving": {"en": "Serving", "ko": "적용 설비"},
    "replay": {"en": "Replay on labelled periods", "ko": "라벨 구간 재검증"},
    "rollback": {"en": "Roll back", "ko": "이전 버전으로"},
    "rebaseline": {"en": "Re-baseline from labels", "ko": "라벨로 기준 재설정"},
    "rebaseline_help": {
        "en": "Re-baselining fits a new version on the healthy period plus the periods "
        "closed as false alarm, minus those closed as confirmed, and serves the asset with it; "
        "roll back to return to the previous version.",
        "ko": "기준 재설정은 정상 구간에 오경보로 종료된 구간을 더하고 고장 확인 구간을 빼서 새 "
        "버전을 학습하고 해당 설비에 적용합니다. 이전 버전으로 되돌릴 수 있습니다.",
    },
    "trends": {"en": "Trends", "ko": "추세"},
    "anomaly_score": {
        "en": "Anomaly score / threshold, contributing features",
        "ko": "이상 점수 / 임계값, 기여 특징",
    },
    "rul": {"en": "Remaining useful life [interval]", "ko": "잔여 수명 [구간]"},
    "no_trends": {
        "en": "no window results stored for this asset yet",
        "ko": "이 설비의 구간 결과가 아직 없습니다",
    },
    "envelope": {"en": "Envelope spectrum", "ko": "포락선 스펙트럼"},
    "comments": {"en": "History and comments", "ko": "이력 및 의견"},
    "add_comment": {"en": "Add comment", "ko": "의견 추가"},
    "comment_hint": {
        "en": "What was found or done (e.g. grease nipple blocked, cleaned)",
        "ko": "점검 또는 조치 내용 (예: 그리스 니플 막힘, 청소함)",
    },
}


def translate(key: str, lang: str) -> str:
    """The string for ``key`` in ``lang`` (English when missing; the key when unknown)."""
    entry = CATALOGUE.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry["en"]
