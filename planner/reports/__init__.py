"""Printable documents for finance sections: 負担金算定書, 負担額通知 and the prefecture summary as PDF
(WeasyPrint) and Excel (openpyxl), from an Instance and a SettledPlan. See docs/reports.md."""
