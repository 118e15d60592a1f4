// The words a chunk is found by (kb_chunks.fts = private.kb_chunk_lexemes): english stems, exact forms and whole
// identifiers with their positions and weights. Pinned on inputs that exercise every branch (camelCase,
// snake_case, $names, hyphens, URLs and emails, tags and quotes, non-ASCII, stop words, repeats, an identifier
// over 200 characters), so a faster formulation must give exactly the tsvector the ranking was tuned on.
import assert from 'node:assert/strict';
import { freshDb, type TestDb } from '../support/db.js';

const CASES: Array<[content: string, symbols: string[], fts: string]> = [
  ["const invoiceTotalCents = computeTotal(lineItems); // subscribers emitted until the end", ["Invoice", "Invoice.totalCents"],
   "'cent':4A,13 'cents':8A,26 'comput':14 'compute':27 'computetotal':34 'const':10 'emit':19 'emitted':32 'end':22 'invoic':1A,2A,11 'invoice':5A,6A,24 'invoicetotalcents':34 'item':17 'items':30 'line':16 'lineitems':34 'subscrib':18 'subscribers':31 'total':3A,12,15 'totalcents':9A 'until':33"],
  ["def snake_case_name(self): return self._private_value or __dunder__", ["snake_case_name"],
   "'_private_value':25 'case':2A,7 'def':5 'dunder':15 'name':3A,8 'privat':12 'private':23 'return':10 'self':9,11 'snake':1A,6 'snake_case_name':4A,25 'valu':13 'value':24"],
  ["let $el_x = $('#main .item'); jQuery.fn.extend({ isVisible: true })", [],
   "'$el_x':24 'el':2 'extend':9 'fn':8 'isvisible':24 'item':5 'j':6 'let':1 'main':4 'queri':7 'query':19 'true':12 'visibl':11 'visible':23 'x':3"],
  ["v2Beta utf8Decode HTTPServer parseJSONBody x86_64 _leading trailing_ a__b", [],
   "'64':9 'b':13 'beta':2 'decod':4 'decode':17 'httpserver':5 'jsonbodi':7 'jsonbody':20 'lead':10 'leading':23 'pars':6 'parse':19 'parsejsonbody':25 'trail':11 'trailing':24 'utf8':3 'utf8decode':25 'v2':1 'v2beta':25 'x86':8 'x86_64':25"],
  ["See https://example.com/docs/page.html#section or mail admin@example.com; C:\\Users\\bob\\file.txt", [],
   "'admin':11 'bob':16 'c':14 'com':4,13 'doc':5 'docs':23 'exampl':3,12 'example':21,30 'file':17 'html':7 'https':2 'mail':10 'page':6 'section':8 'see':1 'txt':18 'user':15 'users':33"],
  ["<div class=\"fooBar\">&amp; it's don't won't 'quoted' \"double\" back\\slash</div>", ["Render.div"],
   "'back':11 'div':2A,13 'don':16 'doubl':10 'double':21 'foobar':22 'quot':9 'quoted':20 'render':1A 'slash':12 'won':7"],
  ["well-known foo-bar-baz co-operate 1.5e10 -42 3.14 version 1.2.3 2files", [],
   "'-42':13 '1':11,17 '14':15 '2':18 '2files':20 '3':14,19 '5e10':12 'bar':6 'baz':7 'co':9 'co-oper':8 'co-operate':28 'foo':5 'foo-bar-baz':4 'known':3 'oper':10 'operate':30 'version':16 'well':2 'well-known':1"],
  ["café naïveTé Über straße ΑΣ ΣΙΣΥΦΟΣ 日本語のテキスト emoji 🎉 done", [],
   "'café':1 'done':10 'emoji':9 'naïv':2 'naïve':12 'naïveté':13 'straße':5 'té':3 'über':4 'ασ':6 'σισυφοσ':7 '日本語のテキスト':8"],
  ["the and of to while before once only from until, when if how why", [],
   "'before':6 'from':9 'once':7 'only':8 'until':10 'while':5"],
  ["aB", [],
   "'b':2"],
  ["", [],
   ""],
  ["repeatMe repeatMe repeatMe repeat_me REPEAT_ME", ["repeatMe", "repeatMe"],
   "'repeat':1A,3A,5,7,9,11,13 'repeat_me':14 'repeatme':4A,14"],
  [`x${'yZ'.repeat(120)} shortOne`, [],
   "'one':123 'short':122 'shortone':124 'xy':1 'z':121 'zy':2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99,100,101,102,103,104,105,106,107,108,109,110,111,112,113,114,115,116,117,118,119,120"],
];

describe('private.kb_chunk_lexemes', function () {
  this.timeout(60_000);
  let db: TestDb;
  before(async () => {
    db = await freshDb();
  });
  after(() => db.close());

  it('gives the pinned tsvector, positions and weights included', async () => {
    for (const [content, symbols, fts] of CASES) {
      const r = await db.db.query<{ v: string }>(`select private.kb_chunk_lexemes($1, $2::text[])::text as v`, [content, symbols]);
      assert.equal(r.rows[0]!.v, fts, content);
    }
  });
});
