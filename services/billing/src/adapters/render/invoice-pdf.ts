// The invoice as a PDF document (A4), the same content as the HTML page (both draw the domain's
// invoiceView). Built-in Helvetica only, so no font file is read or embedded. Deterministic: the
// same input gives the same bytes, because the only instant pdfkit would take from the clock
// (the info dictionary's CreationDate, which also seeds the file ID) is the invoice's issuedAt.
import type PDFKitDocument from 'pdfkit';
import {
  invoiceView,
  type Fact,
  type InvoiceDocument,
  type InvoiceLineView,
  type InvoiceView,
  type PaymentAttemptView,
} from '../../domain/invoice-document';

/** How the PDF is written; streams are compressed unless a test needs to read the text. */
export interface RenderPdfOptions {
  compress?: boolean;
}

type Doc = PDFKit.PDFDocument;
type Align = 'left' | 'right';

interface Column<Row> {
  title: string;
  width: number;
  align: Align;
  cell: (row: Row) => string;
}

const MARGIN = 50;
const CONTENT_WIDTH = 495; // A4 width 595.28 minus the margins
const CELL_PADDING = 4;
const ROW_PADDING = 5;
const FONT = 'Helvetica';
const BOLD = 'Helvetica-Bold';
const BODY_SIZE = 9;
const NOTE_SIZE = 7.5;
const TEXT = '#1f2328';
const MUTED = '#57606a';
const RULE = '#d8dbe0';
const STATUS_COLORS: Readonly<Record<InvoiceView['status'], string>> = {
  PAID: '#1a7f37',
  PENDING: '#9a6700',
  FAILED: '#cf222e',
};

const LINE_COLUMNS: readonly Column<InvoiceLineView>[] = [
  { title: 'Description', width: 165, align: 'left', cell: (line) => line.description },
  { title: 'Quantity', width: 58, align: 'right', cell: (line) => line.quantity },
  { title: 'Included', width: 58, align: 'right', cell: (line) => line.included },
  { title: 'Billable', width: 58, align: 'right', cell: (line) => line.billable },
  { title: 'Unit price', width: 76, align: 'right', cell: (line) => line.unitPrice },
  { title: 'Amount', width: 80, align: 'right', cell: (line) => line.amount },
];

const ATTEMPT_COLUMNS: readonly Column<PaymentAttemptView>[] = [
  { title: 'Attempt', width: 50, align: 'left', cell: (attempt) => attempt.attempt },
  { title: 'Date', width: 130, align: 'left', cell: (attempt) => attempt.attemptedAt },
  { title: 'Outcome', width: 80, align: 'left', cell: (attempt) => attempt.outcome },
  { title: 'Details', width: 155, align: 'left', cell: (attempt) => attempt.detail },
  { title: 'Amount', width: 80, align: 'right', cell: (attempt) => attempt.amount },
];

// Code points the standard fonts' WinAnsi encoding has beyond Latin-1 (curly quotes, dashes, euro).
const WIN_ANSI_EXTRA = new Set([
  0x152, 0x153, 0x160, 0x161, 0x178, 0x17d, 0x17e, 0x192, 0x2c6, 0x2dc, 0x2013, 0x2014, 0x2018, 0x2019, 0x201a, 0x201c,
  0x201d, 0x201e, 0x2020, 0x2021, 0x2022, 0x2026, 0x2030, 0x2039, 0x203a, 0x20ac, 0x2122,
]);

/**
 * Text the built-in fonts can draw. NOTE: pdfkit writes each character's code as hex without
 * checking it fits a byte, so one character outside WinAnsi (a CJK name) would garble the rest
 * of its string; such characters are shown as "?" and control characters as spaces instead.
 */
export function pdfText(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x20 || (code >= 0x7f && code < 0xa0)) out += ' ';
    else if (code <= 0xff || WIN_ANSI_EXTRA.has(code)) out += char;
    else out += '?';
  }
  return out;
}

function bottom(doc: Doc): number {
  return doc.page.height - doc.page.margins.bottom;
}

/** Where a block of `height` can be drawn: at y, or at the top of a new page (set up by `onNewPage`). */
function reserve(doc: Doc, y: number, height: number, onNewPage: (doc: Doc) => number = () => MARGIN): number {
  if (y + height <= bottom(doc)) return y;
  doc.addPage();
  return onNewPage(doc);
}

function textHeight(doc: Doc, text: string, font: string, size: number, width: number): number {
  if (text === '') return 0;
  return doc.font(font).fontSize(size).heightOfString(pdfText(text), { width });
}

/** Draws text in a box of `width` at (x, y) and answers the y below it. */
function write(
  doc: Doc,
  text: string,
  x: number,
  y: number,
  width: number,
  style: { font?: string; size?: number; color?: string; align?: Align } = {},
): number {
  if (text === '') return y;
  doc
    .font(style.font ?? FONT)
    .fontSize(style.size ?? BODY_SIZE)
    .fillColor(style.color ?? TEXT)
    .text(pdfText(text), x, y, { width, align: style.align ?? 'left' });
  return doc.y;
}

function rule(doc: Doc, y: number): void {
  doc
    .moveTo(MARGIN, y)
    .lineTo(MARGIN + CONTENT_WIDTH, y)
    .lineWidth(0.5)
    .strokeColor(RULE)
    .stroke();
}

function drawTableHeader<Row>(doc: Doc, columns: readonly Column<Row>[], y: number): number {
  let x = MARGIN;
  for (const column of columns) {
    write(doc, column.title, x + CELL_PADDING, y, column.width - 2 * CELL_PADDING, {
      font: BOLD,
      size: 8,
      color: MUTED,
      align: column.align,
    });
    x += column.width;
  }
  const below = y + 8 + ROW_PADDING;
  rule(doc, below);
  return below + ROW_PADDING;
}

/** Draws table rows, each kept whole on one page; a new page repeats the column titles. */
function drawTable<Row>(
  doc: Doc,
  columns: readonly Column<Row>[],
  rows: readonly Row[],
  y: number,
  notes: (row: Row) => string[] = () => [],
): number {
  const continued = (d: Doc) => drawTableHeader(d, columns, MARGIN);
  // the titles never stand alone at the foot of a page: they need room for a row below them
  let top = y + 40 <= bottom(doc) ? drawTableHeader(doc, columns, y) : reserve(doc, y, 40, continued);
  for (const row of rows) {
    const heights = columns.map((column, i) => {
      const width = column.width - 2 * CELL_PADDING;
      const extra =
        i === 0 ? notes(row).reduce((sum, note) => sum + textHeight(doc, note, FONT, NOTE_SIZE, width), 0) : 0;
      return textHeight(doc, column.cell(row), FONT, BODY_SIZE, width) + extra;
    });
    const height = Math.max(...heights) + 2 * ROW_PADDING;
    top = reserve(doc, top, height, continued);
    let x = MARGIN;
    columns.forEach((column, i) => {
      const width = column.width - 2 * CELL_PADDING;
      let cellY = write(doc, column.cell(row), x + CELL_PADDING, top + ROW_PADDING, width, { align: column.align });
      if (i === 0) {
        for (const note of notes(row)) {
          cellY = write(doc, note, x + CELL_PADDING, cellY, width, { size: NOTE_SIZE, color: MUTED });
        }
      }
      x += column.width;
    });
    top += height;
    rule(doc, top);
  }
  return top;
}

/** Label/value pairs, labels left in `width`, values right-aligned beside them. */
function drawFacts(doc: Doc, facts: readonly Fact[], x: number, y: number, width: number, align: Align): number {
  const labelWidth = 110;
  let top = y;
  for (const fact of facts) {
    const height = Math.max(textHeight(doc, fact.value, FONT, BODY_SIZE, width - labelWidth), BODY_SIZE) + 4;
    top = reserve(doc, top, height);
    write(doc, fact.label, x, top, labelWidth, { color: MUTED });
    write(doc, fact.value, x + labelWidth, top, width - labelWidth, { align });
    top += height;
  }
  return top;
}

function drawHeader(doc: Doc, view: InvoiceView): number {
  const titleWidth = CONTENT_WIDTH - 130;
  let y = MARGIN;
  if (view.issuer !== null) y = write(doc, view.issuer, MARGIN, y, titleWidth, { font: BOLD, size: 13 }) + 4;
  y = write(doc, `Invoice ${view.number}`, MARGIN, y, titleWidth, { font: BOLD, size: 22 });
  write(doc, view.statusLabel, MARGIN + titleWidth, MARGIN + 4, 130, {
    font: BOLD,
    size: 11,
    color: STATUS_COLORS[view.status],
    align: 'right',
  });

  const top = y + 24;
  let left = write(doc, 'BILLED TO', MARGIN, top, 220, { font: BOLD, size: 8, color: MUTED }) + 4;
  if (view.customer.name !== null) left = write(doc, view.customer.name, MARGIN, left, 220, { font: BOLD, size: 10 });
  if (view.customer.email !== null) left = write(doc, view.customer.email, MARGIN, left, 220);
  left = write(doc, `Customer ID ${view.customer.id}`, MARGIN, left, 220, { color: MUTED });
  const right = drawFacts(doc, view.facts, MARGIN + 245, top, CONTENT_WIDTH - 245, 'right');
  return Math.max(left, right) + 24;
}

function drawTotal(doc: Doc, view: InvoiceView, y: number): number {
  const top = reserve(doc, y + 6, 20);
  write(doc, 'Total', MARGIN + CELL_PADDING, top, 200, { font: BOLD, size: 12 });
  return write(doc, view.total, MARGIN + CONTENT_WIDTH - 200, top, 200 - CELL_PADDING, {
    font: BOLD,
    size: 12,
    align: 'right',
  });
}

function drawPayment(doc: Doc, view: InvoiceView, y: number): number {
  let top = reserve(doc, y + 24, 40);
  top = write(doc, 'PAYMENT', MARGIN, top, CONTENT_WIDTH, { font: BOLD, size: 8, color: MUTED }) + 4;
  top = drawFacts(doc, view.payment, MARGIN, top, 300, 'left');
  if (view.attempts.length === 0) return top;
  return drawTable(doc, ATTEMPT_COLUMNS, view.attempts, top + 12);
}

/** "INV-000001 · Page 1 of 2" on every page, drawn last when the page count is known. */
function drawFooters(doc: Doc, view: InvoiceView): void {
  const { start, count } = doc.bufferedPageRange();
  for (let i = 0; i < count; i++) {
    doc.switchToPage(start + i);
    const text = pdfText(`${view.number} · Page ${i + 1} of ${count}`);
    doc.font(FONT).fontSize(8).fillColor(MUTED);
    const x = MARGIN + (CONTENT_WIDTH - doc.widthOfString(text)) / 2;
    // without a width pdfkit does not wrap, so text in the bottom margin cannot start a new page
    doc.text(text, x, doc.page.height - MARGIN + 20, { lineBreak: false });
  }
}

// NOTE: pdfkit (with its font metrics) costs ~24 MB of memory once loaded: it is loaded on the
// first PDF asked for, not by every billing process that never renders one.
let pdfkit: Promise<typeof PDFKitDocument> | undefined;
const loadPdfkit = () => (pdfkit ??= import('pdfkit').then((m) => m.default));

/** The invoice as a PDF document (A4, Helvetica), byte-identical for the same input. */
export async function renderInvoicePdf(doc: InvoiceDocument, options: RenderPdfOptions = {}): Promise<Buffer> {
  const PDFDocument = await loadPdfkit();
  const view = invoiceView(doc);
  const issuedAt = new Date(doc.invoice.issuedAt);
  const pdf = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    compress: options.compress ?? true,
    bufferPages: true,
    lang: 'en',
    displayTitle: true,
    info: {
      Title: view.title,
      ...(view.issuer === null ? {} : { Author: view.issuer }),
      Subject: `Invoice for customer ${view.customer.id}`,
      Creator: 'UsageFlow',
      CreationDate: issuedAt,
      ModDate: issuedAt,
    },
  });
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
    let y = drawHeader(pdf, view);
    y = drawTable(pdf, LINE_COLUMNS, view.lines, y, (line) => line.notes);
    y = drawTotal(pdf, view, y);
    drawPayment(pdf, view, y);
    drawFooters(pdf, view);
    pdf.end();
  });
}
