"""Provides the catalogue of every text the screens show, keyed, in Chinese and English."""
from __future__ import annotations

from kiosk.text import LocalText

_T = LocalText

MESSAGES: dict[str, LocalText] = {
    # Frame
    "app.title": _T("儿童电子社保卡 自助申领", "Child e-card self-service"),
    "app.language_button": _T("English", "中文"),
    "app.language_hint": _T("F2 English", "F2 中文"),
    "app.tester_hint": _T("F9 测试面板", "F9 tester panel"),
    "stage.card": _T("插卡", "Card"),
    "stage.pin": _T("密码", "PIN"),
    "stage.child": _T("孩子信息", "Child"),
    "stage.check": _T("审核", "Check"),
    "stage.activate": _T("激活", "Activate"),
    "stage.of": _T("第 {n} 步，共 {total} 步", "Step {n} of {total}"),
    "key.enter": _T("回车", "Enter"),
    "key.esc": _T("Esc", "Esc"),
    "idle.warning": _T("{seconds} 秒后将结束办理。按任意键继续。", "This session ends in {seconds} s. Press any key to continue."),
    "art.card_label": _T("社会保障卡", "Social Security Card"),
    # Welcome
    "welcome.heading": _T("为孩子申领电子社保卡", "Get your child's electronic social security card"),
    "welcome.lead": _T(
        "请准备：您本人的社会保障卡和密码、孩子的身份证号码。",
        "You need: your own social security card and its PIN, and your child's ID number.",
    ),
    "welcome.insert": _T("请插入您的社保卡，或按回车开始", "Insert your social security card, or press Enter to start"),
    "welcome.start": _T("开始办理 (回车)", "Start (Enter)"),
    "welcome.age_note": _T(
        "适用于未满{age}周岁的孩子，由监护人持本人社保卡办理。",
        "For children under {age}, applied for by a guardian with the guardian's own card.",
    ),
    "notice.CARD_REMOVED": _T("卡已取出，本次办理已结束，信息已清除。", "The card was taken out. The session ended and your data was cleared."),
    "notice.SESSION_TIMEOUT": _T("长时间没有操作，本次办理已结束，信息已清除。", "The session ended after a while without activity. Your data was cleared."),
    "notice.READER_LOST": _T("读卡器连接中断，本次办理已结束。", "The card reader was lost. The session ended."),
    "notice.READER_UNAVAILABLE": _T("读卡器暂时无法使用。", "The card reader is not available."),
    # Insert card
    "insert.heading": _T("请插入您的社保卡", "Please insert your social security card"),
    "insert.how": _T("芯片朝上，芯片一端先插入读卡器", "Chip facing up, chip end first into the reader"),
    "insert.cancel": _T("取消 (Esc)", "Cancel (Esc)"),
    # Reading
    "reading.heading": _T("正在读卡，请勿拔卡…", "Reading your card. Please do not remove it…"),
    "registering.heading": _T("正在办理，请稍候…", "Registering. Please wait…"),
    # Holder
    "holder.heading": _T("请确认这是您本人的社保卡", "Please confirm this is your own card"),
    "holder.name": _T("姓名", "Name"),
    "holder.id": _T("社会保障号码", "Social security number"),
    "holder.card": _T("卡号", "Card number"),
    "holder.version": _T("卡规范版本", "Card version"),
    "holder.expiry": _T("有效期至", "Valid until"),
    "holder.yes": _T("是我的卡，继续 (回车)", "Yes, continue (Enter)"),
    "holder.no": _T("不是，退出 (Esc)", "No, exit (Esc)"),
    # PIN
    "pin.heading": _T("请输入社保卡密码", "Enter your card PIN"),
    "pin.lead": _T("6位数字，用于确认您是持卡人本人。", "6 digits. It proves you hold this card."),
    "pin.tries": _T("还可以尝试 {n} 次", "{n} tries left"),
    "pin.tries_unknown": _T("密码错误次数过多会锁定社保卡", "Too many wrong PINs lock the card"),
    "pin.last_try": _T(
        "⚠ 注意：这是最后一次机会，再输错社保卡密码将被锁定，需要到人工窗口解锁。",
        "⚠ Careful: this is your last try. Another wrong PIN locks the card until a service counter unlocks it.",
    ),
    "pin.wrong": _T("✗ 密码不正确。", "✗ Wrong PIN."),
    "pin.format": _T("✗ 密码应为6位数字。", "✗ The PIN has 6 digits."),
    "pin.ok": _T("确定 (回车)", "OK (Enter)"),
    "pin.cancel": _T("退出 (Esc)", "Exit (Esc)"),
    "keypad.delete": _T("⌫ 删除", "⌫ Delete"),
    "keypad.clear": _T("清空", "Clear"),
    # Child ID
    "child.heading": _T("请输入孩子的身份证号码", "Enter your child's ID number"),
    "child.lead": _T("18位，最后一位可能是 X。可在户口簿或出生医学证明上找到。",
                     "18 characters; the last may be X. It is in the household register or on the birth certificate."),
    "child.count": _T("已输入 {n}/18 位", "{n} of 18 typed"),
    "child.ok": _T("下一步 (回车)", "Next (Enter)"),
    "child.cancel": _T("退出 (Esc)", "Exit (Esc)"),
    "child.pending": _T("您有待激活的申请：", "You have registrations waiting for activation:"),
    "child.resume": _T("继续激活 {name}", "Continue activating {name}"),
    "child.bad_char": _T("✗ 第 {pos} 位不正确", "✗ Character {pos} is wrong"),
    "child.reason.length": _T("✗ 号码应为18位。", "✗ The number has 18 characters."),
    "child.reason.character": _T("✗ 第 {pos} 位不正确：只能是数字，最后一位可以是 X。", "✗ Character {pos} is wrong: digits only, X only at the end."),
    "child.reason.area": _T("✗ 前6位地区码不正确。", "✗ The first 6 digits (area code) are not valid."),
    "child.reason.date": _T("✗ 第7到14位出生日期不正确。", "✗ Characters 7 to 14 (birth date) are not a valid date."),
    "child.reason.checksum": _T("✗ 校验位不符，请逐位核对号码。", "✗ The check character does not match. Please check each character."),
    # Child confirm
    "confirm.heading": _T("请确认孩子信息", "Please confirm your child"),
    "confirm.name": _T("姓名", "Name"),
    "confirm.id": _T("身份证号码", "ID number"),
    "confirm.age": _T("年龄", "Age"),
    "confirm.age_value": _T("{age} 周岁", "{age} years"),
    "confirm.sex": _T("性别", "Sex"),
    "confirm.relationship": _T("您与孩子的关系", "Your relationship"),
    "confirm.yes": _T("确认 (回车)", "Confirm (Enter)"),
    "confirm.no": _T("重新输入 (Esc)", "Type again (Esc)"),
    "sex.1": _T("男", "Male"),
    "sex.2": _T("女", "Female"),
    "relationship.father": _T("父亲", "Father"),
    "relationship.mother": _T("母亲", "Mother"),
    "relationship.guardian": _T("监护人", "Guardian"),
    # Eligible
    "eligible.heading": _T("✓ 孩子可以申领电子社保卡", "✓ Your child can get an electronic social security card"),
    "eligible.consent": _T(
        "我是孩子的监护人，同意为孩子申领一级电子社保卡（身份凭证和查询）。"
        "申领后请用手机社保App扫描屏幕上的二维码完成激活。",
        "I am the child's guardian and I agree to register a level-1 electronic social security card "
        "(identity and queries) for the child. Afterwards, scan the QR code on screen with the social security app to activate it.",
    ),
    "eligible.yes": _T("同意并申领 (回车)", "Agree and register (Enter)"),
    "eligible.no": _T("不申领，退出 (Esc)", "Do not register, exit (Esc)"),
    # Not eligible
    "ineligible.heading": _T("✗ 暂时不能在本机办理", "✗ This cannot be done at this kiosk"),
    "ineligible.reason": _T("原因", "Why"),
    "ineligible.basis": _T("依据", "Rule"),
    "ineligible.next": _T("您可以", "What you can do"),
    "ineligible.another": _T("为其他孩子办理 (F3)", "Another child (F3)"),
    "ineligible.done": _T("结束 (回车)", "Finish (Enter)"),
    # Activation
    "activation.heading": _T("请用手机社保App扫描二维码完成激活", "Scan the QR code with the social security app to activate"),
    "activation.resumed": _T("这是之前已提交的申请，已为您生成新的二维码。", "This registration was made earlier; here is a fresh QR code."),
    "activation.steps": _T(
        "1. 打开社保App，登录您本人的账号\n2. 点击「扫一扫」，扫描左侧二维码\n3. 在手机上确认，激活孩子的电子社保卡",
        "1. Open the social security app and log in as yourself\n2. Tap \"Scan\" and scan the QR code\n3. Confirm on the phone to activate your child's e-card",
    ),
    "activation.code": _T("无法扫码？在App中输入激活码：", "Cannot scan? Type this code in the app:"),
    "activation.url": _T("或打开：", "Or open:"),
    "activation.countdown": _T("二维码 {time} 后更新", "New QR code in {time}"),
    "activation.waiting": _T("等待手机激活…", "Waiting for the phone…"),
    "activation.small": _T("窗口太小，无法显示二维码。请使用激活码。", "The screen is too small for the QR code; please use the code."),
    "activation.exit": _T("稍后激活，退出 (Esc)", "Activate later, exit (Esc)"),
    "activation.later_note": _T("申请已保存。稍后插入本卡可重新获取二维码。", "Your registration is saved. Insert this card later for a new QR code."),
    # Activated
    "activated.heading": _T("✓ 激活成功", "✓ Activated"),
    "activated.lead": _T("孩子的电子社保卡已激活，可在手机App的「亲情服务」中使用。",
                         "Your child's e-card is active. Find it under family services in the app."),
    "activated.another": _T("为其他孩子办理 (F3)", "Another child (F3)"),
    "activated.done": _T("完成 (回车)", "Done (Enter)"),
    # Take card
    "takecard.heading": _T("请取回您的社保卡", "Please take your card"),
    "takecard.lead": _T("您的信息已从本机清除。谢谢使用！", "Your data has been cleared from this kiosk. Thank you!"),
    # Error
    "error.heading": _T("无法继续办理", "This cannot continue"),
    "error.next": _T("您可以", "What you can do"),
    "error.code": _T("代码", "Code"),
    "error.area": _T("发卡地区代码", "Issuing area code"),
    "error.ok": _T("确定 (回车)", "OK (Enter)"),
    # Out of service
    "oos.heading": _T("本机暂停服务", "This kiosk is out of service"),
    "oos.lead": _T("请使用其他自助机，或到人工窗口办理。", "Please use another kiosk or go to a service counter."),
    "oos.recovering": _T("正在自动恢复…", "Trying to recover by itself…"),
    # Tester panel
    "tester.heading": _T("测试面板：虚拟卡", "Tester panel: virtual cards"),
    "tester.insert": _T("插入所选卡 (回车)", "Insert selected card (Enter)"),
    "tester.remove": _T("拔出卡 (R)", "Remove card (R)"),
    "tester.close": _T("关闭 (Esc)", "Close (Esc)"),
    "tester.exit": _T("退出自助机程序 (Q)", "Exit the kiosk program (Q)"),
    "tester.in_reader": _T("读卡器中：{name}", "In the reader: {name}"),
    "tester.empty": _T("读卡器中：无卡", "In the reader: no card"),
}


def message(key: str, lang: str, **values: object) -> str:
    """The text for `key` in `lang`, with `{name}` placeholders filled from `values`."""
    text = MESSAGES[key].get(lang)
    return text.format(**values) if values else text
