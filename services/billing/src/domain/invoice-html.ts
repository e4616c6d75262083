// The invoice as the self-contained HTML page a customer receives: inline CSS, no scripts, no
// external resources. Names, descriptions and emails come from organizations and their customers,
// so every interpolated value goes through the `markup` template tag, which escapes strings and
// passes only markup this file built: unescaped text cannot reach the page by omission.
import {
  invoiceView,
  type Fact,
  type InvoiceDocument,
  type InvoiceLineView,
  type InvoiceView,
  type PaymentAttemptView,
} from './invoice-document';

/** Markup built by the `markup` tag (already escaped). */
class Markup {
  constructor(readonly text: string) {}
}

type Value = string | Markup | readonly Markup[];

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

function render(value: Value): string {
  if (value instanceof Markup) return value.text;
  if (typeof value === 'string') return escapeHtml(value);
  return value.map((part) => part.text).join('');
}

function markup(strings: TemplateStringsArray, ...values: Value[]): Markup {
  return new Markup(strings.reduce((out, chunk, i) => out + render(values[i - 1] ?? '') + chunk));
}

const EMPTY = markup``;

// NOTE: the page is opened from mail clients and downloads; the policy forbids every fetch and
// script, so even markup that slipped through could not load or run anything.
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const STYLE = `
  *{box-sizing:border-box}
  body{margin:0;background:#f4f5f7;color:#1f2328;font:14px/1.45 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif}
  main{max-width:860px;margin:24px auto;padding:40px;background:#fff;border:1px solid #d8dbe0;border-radius:6px}
  header{display:flex;justify-content:space-between;align-items:flex-start;gap:24px}
  h1{margin:4px 0 0;font-size:24px}
  h2{margin:0 0 8px;font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:#57606a}
  .issuer{margin:0;font-size:16px;font-weight:600}
  .status{padding:4px 10px;border-radius:999px;font-weight:600;font-size:13px;white-space:nowrap}
  .status-PAID{background:#dafbe1;color:#1a7f37}
  .status-PENDING{background:#fff8c5;color:#9a6700}
  .status-FAILED{background:#ffebe9;color:#cf222e}
  .parties{display:flex;justify-content:space-between;gap:24px;margin:32px 0}
  .parties p{margin:0}
  dl{display:grid;grid-template-columns:auto auto;gap:4px 16px;margin:0}
  dt{color:#57606a}
  dd{margin:0;text-align:right}
  table{width:100%;border-collapse:collapse}
  th,td{padding:8px 6px;border-bottom:1px solid #e4e6ea;vertical-align:top;text-align:right}
  th{font-size:12px;color:#57606a;font-weight:600}
  .description{text-align:left}
  .note{display:block;color:#57606a;font-size:12px}
  .num{white-space:nowrap;font-variant-numeric:tabular-nums}
  tfoot th,tfoot td{border-bottom:none;font-size:16px;font-weight:700;color:#1f2328}
  .payment{margin-top:32px}
  .payment dl{justify-content:start}
  .payment dd{text-align:left}
  .attempts{margin-top:12px}
  .muted{color:#57606a}
`;

function facts(list: readonly Fact[]): Markup {
  return markup`<dl>${list.map((fact) => markup`<dt>${fact.label}</dt><dd>${fact.value}</dd>`)}</dl>`;
}

function lineRow(line: InvoiceLineView): Markup {
  const notes = line.notes.map((note) => markup`<span class="note">${note}</span>`);
  return markup`
      <tr>
        <td class="description">${line.description}${notes}</td>
        <td class="num">${line.quantity}</td>
        <td class="num">${line.included}</td>
        <td class="num">${line.billable}</td>
        <td class="num">${line.unitPrice}</td>
        <td class="num">${line.amount}</td>
      </tr>`;
}

function attemptRow(attempt: PaymentAttemptView): Markup {
  return markup`
        <tr>
          <td class="description">${attempt.attempt}</td>
          <td class="description">${attempt.attemptedAt}</td>
          <td class="description">${attempt.outcome}</td>
          <td class="description">${attempt.detail}</td>
          <td class="num">${attempt.amount}</td>
        </tr>`;
}

function attemptsTable(attempts: readonly PaymentAttemptView[]): Markup {
  if (attempts.length === 0) return EMPTY;
  return markup`
    <table class="attempts">
      <thead>
        <tr><th class="description">Attempt</th><th class="description">Date</th><th class="description">Outcome</th><th class="description">Details</th><th>Amount</th></tr>
      </thead>
      <tbody>${attempts.map(attemptRow)}
      </tbody>
    </table>`;
}

function customer(view: InvoiceView): Markup {
  const { name, email, id } = view.customer;
  return markup`
    <div>
      <h2>Billed to</h2>${
        name === null
          ? EMPTY
          : markup`
      <p><strong>${name}</strong></p>`
      }${
        email === null
          ? EMPTY
          : markup`
      <p>${email}</p>`
      }
      <p class="muted">Customer ID ${id}</p>
    </div>`;
}

function page(view: InvoiceView): Markup {
  return markup`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${view.title}</title>
<style>${new Markup(STYLE)}</style>
</head>
<body>
<main>
  <header>
    <div>${
      view.issuer === null
        ? EMPTY
        : markup`
      <p class="issuer">${view.issuer}</p>`
    }
      <h1>Invoice ${view.number}</h1>
    </div>
    <span class="status status-${view.status}">${view.statusLabel}</span>
  </header>
  <section class="parties">${customer(view)}
    ${facts(view.facts)}
  </section>
  <table class="lines">
    <thead>
      <tr><th class="description">Description</th><th>Quantity</th><th>Included</th><th>Billable</th><th>Unit price</th><th>Amount</th></tr>
    </thead>
    <tbody>${view.lines.map(lineRow)}
    </tbody>
    <tfoot>
      <tr><th class="description" colspan="5">Total</th><td class="num">${view.total}</td></tr>
    </tfoot>
  </table>
  <section class="payment">
    <h2>Payment</h2>
    ${facts(view.payment)}${attemptsTable(view.attempts)}
  </section>
</main>
</body>
</html>
`;
}

/** The invoice as a complete HTML5 page (UTF-8, inline CSS, no scripts or external resources). */
export function renderInvoiceHtml(doc: InvoiceDocument): string {
  return page(invoiceView(doc)).text;
}
