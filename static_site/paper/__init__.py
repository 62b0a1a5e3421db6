"""Paper documents: weekly slips for families without internet, the journal's hard copy, the summary sheet.

They show what the family site shows, computed by the same code (static_site.data, .pages, .forecast);
only the layout is their own. Modules:
    lookup        class, week and period from what staff type; where a document may be written
    options       the configuration switches of paper documents (read defensively)
    audience      who gets a weekly slip, and which family link its QR code may carry
    snapshots     the site's Snapshot narrowed to one week (slips) or one period (journal copy)
    slips         a slip's content per student and week
    signatures    a returned slip signed by a guardian: the family's confirmation of the week
    journal_copy  the quarterly hard copy of a class journal
    summary       the year-end summary sheet of final marks (сводная ведомость)
    pdf           HTML from the templates, PDF with WeasyPrint, page counts and slips kept whole
"""
