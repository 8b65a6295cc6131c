"""Provides the Readers page: each reader slot with its card and decoded ATR, the PSAM, a card self-test, one APDU, live events."""
from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Input, Select, Static

from kiosk.messages import N_
from kiosk.reader_diagnostics import ApduExchange, AtrFacts, CardSelfTest, PsamStatus, ReaderSlotStatus
from screens.maintenance.page import ConsolePage, local_time

ROLE_KEYS = {"guardian": N_("maint.readers.role.guardian"), "psam": N_("maint.readers.role.psam"),
             "other": N_("maint.readers.role.other")}
EVENT_KEYS = {"card_inserted": N_("maint.event.card_inserted"), "card_removed": N_("maint.event.card_removed"),
              "reader_added": N_("maint.event.reader_added"), "reader_removed": N_("maint.event.reader_removed")}
ITEM_STATUS_KEYS = {"ok": N_("maint.selftest.status.ok"), "missing": N_("maint.selftest.status.missing"),
                    "optional_missing": N_("maint.selftest.status.optional_missing"),
                    "refused": N_("maint.selftest.status.refused"), "invalid": N_("maint.selftest.status.invalid")}
ITEM_KEYS = {
    0x01: N_("maint.item.01"), 0x02: N_("maint.item.02"), 0x03: N_("maint.item.03"), 0x04: N_("maint.item.04"),
    0x05: N_("maint.item.05"), 0x06: N_("maint.item.06"), 0x07: N_("maint.item.07"), 0x08: N_("maint.item.08"),
    0x09: N_("maint.item.09"), 0x4E: N_("maint.item.4E"), 0x0A: N_("maint.item.0A"), 0x0B: N_("maint.item.0B"),
    0x0C: N_("maint.item.0C"), 0x0D: N_("maint.item.0D"),
}
UNKNOWN_ITEM = N_("maint.item.unknown")
OTHER_EVENT = N_("maint.event.other")
CONVENTION_KEYS = {"direct": N_("maint.atr.convention.direct"), "inverse": N_("maint.atr.convention.inverse"),
                   "invalid": N_("maint.atr.convention.invalid")}
CHECK_KEYS = {"ok": N_("maint.atr.check.ok"), "wrong": N_("maint.atr.check.wrong"),
              "absent": N_("maint.atr.check.absent")}
COMPACT_TLV_KEYS = {
    1: N_("maint.atr.tlv.1"), 2: N_("maint.atr.tlv.2"), 3: N_("maint.atr.tlv.3"), 4: N_("maint.atr.tlv.4"),
    5: N_("maint.atr.tlv.5"), 6: N_("maint.atr.tlv.6"), 7: N_("maint.atr.tlv.7"), 8: N_("maint.atr.tlv.8"),
    15: N_("maint.atr.tlv.15"),
}


def hex_bytes(data: bytes) -> str:
    return data.hex(" ").upper() if data else "-"


class ReadersPage(ConsolePage):
    """R refreshes, T runs the card self-test, Enter in the APDU field sends it."""


    def compose(self) -> ComposeResult:
        yield Static(self.t("maint.readers.heading"), classes="page-heading")
        yield Static("", id="reader-slots")
        yield Static("", id="reader-psam")
        with Horizontal(classes="page-buttons"):
            yield Button(self.t("maint.refresh"), id="readers-refresh")
            yield Button(self.t("maint.readers.self_test"), id="self-test-run", variant="primary")
        yield Static("", id="self-test")
        yield Static(self.t("maint.readers.apdu_heading"), classes="page-subheading")
        with Horizontal(classes="page-inputs"):
            yield Select([], id="apdu-slot", allow_blank=True, prompt=self.t("maint.readers.apdu_slot"))
            yield Input(placeholder="00 A4 04 00 0F 73 78 31 2E 73 68 2E C9 E7 BB E1 B1 A3 D5 CF", id="apdu-command")
            yield Button(self.t("maint.readers.apdu_send"), id="apdu-send")
        yield Static("", id="apdu-result", markup=False)
        yield Static(self.t("maint.readers.events"), classes="page-subheading")
        yield Static("", id="reader-events", markup=False)
        yield from self.status_lines()

    def on_mount(self) -> None:
        super().on_mount()
        self.show_events()
        self.set_interval(1.0, self.show_events, name="reader-events")

    def load(self) -> None:
        self.run_io(lambda: (self.mode.reader_slots(), self.mode.psam_status()), self.show_slots)

    def action_refresh(self) -> None:
        self.load()

    # Slots, ATRs and the PSAM ------------------------------------------------------------
    def show_slots(self, found: tuple[list[ReaderSlotStatus], PsamStatus]) -> None:
        slots, psam = found
        table = Table(expand=True, show_edge=False)
        for key in (N_("maint.readers.col.number"), N_("maint.readers.col.reader"), N_("maint.readers.col.role"),
                    N_("maint.readers.col.card"), N_("maint.readers.col.atr")):
            table.add_column(self.t(key))
        details: list[Text] = []
        for slot in slots:
            card = (self.t("maint.readers.mute") if slot.mute else self.t("maint.yes")) if slot.card_present \
                else self.t("maint.no")
            table.add_row(str(slot.number), slot.name, self.t(ROLE_KEYS[slot.role]), card, hex_bytes(slot.atr))
            if slot.atr_facts is not None:
                details.append(self.atr_text(slot.name, slot.atr_facts))
        if not slots:
            table.add_row("-", self.t("maint.readers.none"), "", "", "")
        self.query_one("#reader-slots", Static).update(table)
        self.query_one("#reader-psam", Static).update(Text("\n").join([self.psam_text(psam), *details]))
        selector = self.query_one("#apdu-slot", Select)
        chosen = selector.value
        selector.set_options([(f"{slot.number}: {slot.name}", slot.name) for slot in slots])
        names = [slot.name for slot in slots]
        if chosen in names:
            selector.value = chosen
        elif names:
            selector.value = next((s.name for s in slots if s.role == "guardian"), names[0])
        self.set_status(self.t("maint.updated", time=local_time(self.mode.clock.now())))

    def psam_text(self, psam: PsamStatus) -> Text:
        if not psam.configured:
            state = self.t("maint.readers.psam.none")
        elif not psam.present:
            state = self.t("maint.readers.psam.absent")
        elif psam.working:
            state = self.t("maint.readers.psam.working")
        else:
            state = self.t("maint.readers.psam.failing", code=psam.error or "-")
        text = Text.assemble((self.t("maint.readers.psam") + " ", "bold"), state)
        if psam.detail:
            text.append(f"  ({psam.detail})", style="dim")
        return text

    def atr_text(self, name: str, facts: AtrFacts) -> Text:
        rows: list[tuple[str, str]] = [
            (self.t("maint.atr.convention"), self.t(CONVENTION_KEYS[facts.convention])),
            (self.t("maint.atr.protocols"), ", ".join(facts.protocols) or "-"),
            (self.t("maint.atr.interface"), ", ".join(f"{k}={v}" for k, v in facts.interface) or "-"),
            (self.t("maint.atr.historical"), hex_bytes(facts.historical)
             + (f'  "{facts.text}"' if facts.text else "")),
            (self.t("maint.atr.category"), facts.category),
        ]
        for tag, value in facts.objects:
            label = self.t(COMPACT_TLV_KEYS[tag]) if tag in COMPACT_TLV_KEYS else f"{tag:X}"
            rows.append((f"  {label}", hex_bytes(value)))
        if facts.leftover:
            rows.append(("  " + self.t("maint.atr.leftover"), hex_bytes(facts.leftover)))
        rows.append((self.t("maint.atr.chip_maker"), facts.chip_maker or self.t("maint.atr.chip_maker_unknown")))
        rows.append((self.t("maint.atr.check"), self.t(CHECK_KEYS[facts.check])))
        for problem in facts.problems:
            rows.append((self.t("maint.atr.problem"), problem))
        text = Text(self.t("maint.atr.heading", reader=name), style="bold")
        for label, value in rows:
            text.append("\n")
            text.append(f"  {label}: ", style="bold")
            text.append(value)
        return text

    # The card self-test ------------------------------------------------------------------
    def action_self_test(self) -> None:
        self.query_one("#self-test", Static).update(self.t("maint.readers.self_test_running"))
        self.run_io(self.mode.card_self_test, self.show_self_test)

    def show_self_test(self, result: CardSelfTest) -> None:
        if result.passed:
            headline = Text(self.t("maint.selftest.passed"), style="bold green")
        else:
            headline = Text(self.t("maint.selftest.failed", code=result.error or "-"), style="bold red")
        facts = self.t("maint.selftest.facts", version=result.spec_version or "-", apdus=result.apdus,
                       ms=result.milliseconds, atr=hex_bytes(result.atr))
        table = Table(expand=True, show_edge=False)
        for key in (N_("maint.selftest.col.item"), N_("maint.selftest.col.status"), N_("maint.selftest.col.value")):
            table.add_column(self.t(key))
        for item in result.items:
            label = f"{item.file} {item.tag:02X} {self.t(ITEM_KEYS.get(item.tag, UNKNOWN_ITEM))}"
            table.add_row(label, self.t(ITEM_STATUS_KEYS[item.status]), item.value or item.detail)
        parts = [headline, Text(facts)]
        if result.authenticated is not None:
            parts.append(Text(self.t("maint.selftest.auth_ok") if result.authenticated
                              else self.t("maint.selftest.auth_failed")))
        if result.detail:
            parts.append(Text(result.detail, style="dim"))
        self.query_one("#self-test", Static).update(Group(*parts, table) if result.items else Group(*parts))
        self.set_status(self.t("maint.updated", time=local_time(self.mode.clock.now())))

    # One APDU ----------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "apdu-command":
            event.stop()
            self.send_apdu()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "readers-refresh":
            self.load()
        elif event.button.id == "self-test-run":
            self.action_self_test()
        elif event.button.id == "apdu-send":
            self.send_apdu()

    def send_apdu(self) -> None:
        slot = self.query_one("#apdu-slot", Select).value
        command = self.query_one("#apdu-command", Input).value
        if not isinstance(slot, str) or not command.strip():
            self.report(self.t("maint.readers.apdu_missing"), failure=True)
            return
        self.run_io(lambda: self.mode.send_apdu(slot, command), self.show_apdu)

    def show_apdu(self, exchange: ApduExchange) -> None:
        self.query_one("#apdu-result", Static).update(self.t(
            "maint.readers.apdu_answer", slot=exchange.slot, command=hex_bytes(exchange.command),
            data=hex_bytes(exchange.data), sw=f"{exchange.sw:04X}", ms=exchange.milliseconds))
        self.report("")

    # Events ------------------------------------------------------------------------------
    def show_events(self) -> None:
        events = self.mode.reader_events()[:30]
        if not events:
            text = self.t("maint.readers.no_events")
        else:
            text = "\n".join(
                f"{event.at.astimezone():%H:%M:%S}  {self.t(EVENT_KEYS.get(event.kind, OTHER_EVENT))}  "
                f"{event.reader}" + (f"  ATR {hex_bytes(event.atr)}" if event.atr else "")
                for event in events
            )
        found = next(self.query("#reader-events").results(Static), None)
        if found is not None:
            found.update(text)
