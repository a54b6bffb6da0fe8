/**
 * The console's one stylesheet, its one small script (progressive enhancement only: select-all and
 * confirmations; every page works without it) and the favicon. Served by the console itself: no CDN, no build.
 */
import { createHash } from 'node:crypto';

/**
 * Fonts: Latin system fonts first, then the CJK fonts of macOS, Windows, Android/Noto and Debian
 * (fonts-wqy-zenhei), so that Chinese text never falls back to boxes.
 */
const FONT_STACK = [
  'system-ui',
  '-apple-system',
  '"Segoe UI"',
  'Roboto',
  '"Helvetica Neue"',
  'Arial',
  '"PingFang SC"',
  '"Hiragino Sans GB"',
  '"Microsoft YaHei"',
  '"Noto Sans CJK SC"',
  '"Source Han Sans SC"',
  '"WenQuanYi Zen Hei"',
  '"WenQuanYi Micro Hei"',
  'sans-serif',
].join(',');

const MONO_STACK =
  'ui-monospace,"SFMono-Regular","DejaVu Sans Mono",Menlo,Consolas,"Liberation Mono","WenQuanYi Zen Hei Mono",monospace';

export const CONSOLE_CSS = `
:root{
  --bg:#f5f7fa;--surface:#fff;--text:#1f2933;--muted:#66788a;--border:#e1e6ec;--border-strong:#cbd2d9;
  --primary:#1664d9;--primary-dark:#0f4fb0;--primary-soft:#e8f0fd;
  --ok:#17803d;--ok-soft:#e6f4ea;--bad:#c2261b;--bad-soft:#fdecea;--warn:#a15c00;--warn-soft:#fff4e0;
  --info:#1664d9;--info-soft:#e8f0fd;--progress:#5a3fc0;--progress-soft:#efeafc;--off:#7b8794;--off-soft:#eef1f4;
  --radius:8px;--shadow:0 1px 2px rgba(31,41,51,.06),0 1px 3px rgba(31,41,51,.08);
}
*{box-sizing:border-box}
html{font-size:14px}
body{margin:0;font-family:${FONT_STACK};line-height:1.55;color:var(--text);background:var(--bg);
  -webkit-font-smoothing:antialiased;text-rendering:optimizeLegibility}
a{color:var(--primary);text-decoration:none}
a:hover{text-decoration:underline}
code,.mono,pre,.code,.num{font-family:${MONO_STACK}}
code{font-size:.92em;background:var(--off-soft);padding:1px 5px;border-radius:4px}
pre.plain{white-space:pre;word-break:normal}
pre{background:#0f1720;color:#e4e7eb;padding:12px 14px;border-radius:var(--radius);overflow:auto;font-size:12.5px;
  line-height:1.5;white-space:pre-wrap;word-break:break-all;margin:8px 0}
h1{font-size:22px;font-weight:500;margin:4px 0 18px;letter-spacing:.01em}
h2{font-size:16px;font-weight:500;margin:0 0 12px}
h3{font-size:14px;font-weight:500;margin:16px 0 8px}
p{margin:6px 0 10px}
.container{max-width:1240px;margin:0 auto;padding:0 24px}
main.container{padding-top:22px;padding-bottom:48px;min-height:calc(100vh - 120px)}
main.narrow{max-width:560px}
main.narrow>h1{text-align:center}
.muted{color:var(--muted)}
.small{font-size:12px}
.nowrap{white-space:nowrap}
.right{text-align:right}
.hidden{display:none}

/* header */
.topbar{background:#12263f;color:#dce6f2;box-shadow:0 1px 0 rgba(0,0,0,.15)}
.topbar-inner{max-width:1240px;margin:0 auto;padding:0 24px;display:flex;align-items:center;gap:22px;min-height:54px}
.brand{display:flex;align-items:center;gap:9px;color:#fff;font-weight:600;white-space:nowrap}
.brand:hover{text-decoration:none}
.logo-bg{fill:#1677ff}.logo-fg{fill:none;stroke:#fff;stroke-width:2.4;stroke-linecap:round;stroke-linejoin:round}
.brand-name{font-size:16px;letter-spacing:.02em}
.brand-sub{font-weight:400;color:#9fb3c8;font-size:13px;border-left:1px solid #34506f;padding-left:9px}
.mainnav{display:flex;gap:2px;flex-wrap:wrap;flex:1}
.mainnav a{color:#c5d3e3;padding:6px 10px;border-radius:6px;white-space:nowrap}
.mainnav a:hover{background:#1d3656;color:#fff;text-decoration:none}
.mainnav a.active{background:#1d3d66;color:#fff;box-shadow:inset 0 -2px 0 #4d9bff}
.userbox{display:flex;align-items:center;gap:12px;margin-left:auto;white-space:nowrap}
.userbox .user{color:#fff}
.lang-switch{color:#9fc3ff}
.topbar .btn-ghost{color:#dce6f2;border-color:#34506f}
.topbar .btn-ghost:hover{background:#1d3656}
.footer{border-top:1px solid var(--border);background:var(--surface);color:var(--muted);font-size:12px}
.footer .container{display:flex;flex-wrap:wrap;gap:8px 24px;padding-top:12px;padding-bottom:14px}

/* surfaces */
.card{background:var(--surface);border:1px solid var(--border);border-radius:var(--radius);box-shadow:var(--shadow);
  padding:16px 18px;margin-bottom:18px}
.card>h2:first-child{margin-top:0}
.card-head{display:flex;align-items:center;justify-content:space-between;gap:12px;margin-bottom:10px;flex-wrap:wrap}
.card-head h2{margin:0}
.grid{display:grid;gap:18px}
.grid-2{grid-template-columns:repeat(auto-fit,minmax(420px,1fr))}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:14px;margin-bottom:18px}
.kpi{background:var(--surface);border:1px solid var(--border);border-radius:var(--radius);box-shadow:var(--shadow);padding:14px 16px}
.kpi .label{color:var(--muted);font-size:12.5px}
.kpi .value{font-size:26px;font-weight:600;margin-top:2px;font-variant-numeric:tabular-nums}
.kpi .sub{color:var(--muted);font-size:12px}
.kpi.warn{border-color:#f3cf8c;background:#fffaf0}
.kpi.warn .value{color:var(--warn)}
a.kpi:hover{text-decoration:none;border-color:var(--primary)}
.fields{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:10px 22px;margin:0}
.fields div{min-width:0}
.fields dt{color:var(--muted);font-size:12px}
.fields dd{margin:1px 0 0;overflow-wrap:anywhere}

/* tables */
.table-wrap{overflow-x:auto;border:1px solid var(--border);border-radius:var(--radius);background:var(--surface)}
table{border-collapse:collapse;width:100%}
th,td{padding:8px 10px;text-align:left;vertical-align:top;border-bottom:1px solid var(--border);overflow-wrap:anywhere}
time{white-space:nowrap}
td a.mono,td .mono-nowrap{white-space:nowrap;overflow-wrap:normal}
td time{font-size:12.5px}
thead th{background:#f0f3f7;color:#3e4c59;font-weight:500;font-size:12.5px;white-space:nowrap;position:sticky;top:0}
tbody tr:nth-child(even){background:#fafbfc}
tbody tr:hover{background:#f1f6fe}
tbody tr:last-child td{border-bottom:0}
td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td .num{font-variant-numeric:tabular-nums}
td.check,th.check{width:34px;text-align:center}
tr.row-bad td{background:#fff6f5}
.empty{padding:28px;text-align:center;color:var(--muted)}

/* badges */
.badge{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;font-weight:500;white-space:nowrap;
  border:1px solid transparent;line-height:1.6}
.badge-neutral{background:var(--off-soft);color:#52606d;border-color:#dde3e9}
.badge-info{background:var(--info-soft);color:var(--info);border-color:#c6dafa}
.badge-progress{background:var(--progress-soft);color:var(--progress);border-color:#d9cff7}
.badge-ok{background:var(--ok-soft);color:var(--ok);border-color:#bfe3ca}
.badge-bad{background:var(--bad-soft);color:var(--bad);border-color:#f5c4bf}
.badge-warn{background:var(--warn-soft);color:var(--warn);border-color:#f3d9a6}
.badge-off{background:var(--off-soft);color:var(--off);border-color:#dde3e9;text-decoration:line-through}
.tag{display:inline-block;padding:0 6px;border-radius:4px;font-size:12px;background:#eef2f7;color:#3e4c59;border:1px solid #dfe5ec}
.code{font-size:12px;color:#3e4c59;background:var(--off-soft);padding:0 5px;border-radius:4px;border:1px solid #dde3e9;white-space:nowrap}
.code-bad{color:#8a1c13;background:#fff3f1;border-color:#f5c4bf}
.code-ok{color:var(--ok);background:var(--ok-soft);border-color:#bfe3ca}
.audit-kv{display:inline-block;margin:0 8px 2px 0}.audit-key{color:var(--muted);margin-right:2px}
.meaning{margin-left:2px}
.advice{display:block;color:var(--muted);font-size:12px;margin-top:2px}

/* forms */
label{font-weight:500}
.form-row{margin:0 0 14px}
.form-row label{display:block;margin-bottom:4px}
.form-row .hint{color:var(--muted);font-size:12px;margin-top:3px}
input[type=text],input[type=password],input[type=search],input[type=number],input[type=date],select,textarea{
  font:inherit;color:inherit;background:#fff;border:1px solid var(--border-strong);border-radius:6px;padding:6px 9px;
  min-height:34px;max-width:100%}
textarea{width:100%;font-family:${MONO_STACK};font-size:13px;line-height:1.5}
input:focus,select:focus,textarea:focus,button:focus-visible,a:focus-visible{outline:2px solid #86b7fe;outline-offset:1px;border-color:var(--primary)}
input.amount{width:110px;text-align:right;font-family:${MONO_STACK}}
input.reason{width:100%;min-width:140px}
input.wide{width:100%}
input[type=file]{font:inherit}
.toolbar{display:flex;gap:10px;align-items:flex-end;flex-wrap:wrap;margin-bottom:14px}
.toolbar .field{display:flex;flex-direction:column;gap:3px}
.toolbar .field label{font-size:12px;color:var(--muted);font-weight:400}
.toolbar .grow{flex:1;min-width:220px}
.toolbar .grow input{width:100%}
.actions{display:flex;gap:10px;align-items:center;flex-wrap:wrap;margin-top:14px}
.radio-group{display:flex;gap:18px;flex-wrap:wrap}
.radio-group label{font-weight:400;display:flex;gap:6px;align-items:flex-start;cursor:pointer}
.radio-group .hint{display:block;color:var(--muted);font-size:12px}
form.inline{display:inline}
.btn{display:inline-flex;align-items:center;gap:6px;font:inherit;font-weight:500;padding:6px 14px;min-height:34px;
  border-radius:6px;border:1px solid var(--border-strong);background:#fff;color:var(--text);cursor:pointer;white-space:nowrap}
.btn:hover{background:#f3f5f8;text-decoration:none}
.btn-primary{background:var(--primary);border-color:var(--primary);color:#fff}
.btn-primary:hover{background:var(--primary-dark)}
.btn-danger{color:var(--bad);border-color:#f0b7b1}
.btn-danger:hover{background:var(--bad-soft)}
.btn-ghost{background:transparent}
.btn-small{padding:2px 10px;min-height:28px;font-size:12.5px}
.btn[disabled],.btn.disabled{opacity:.5;cursor:not-allowed}

/* messages */
.flash{padding:10px 14px;border-radius:var(--radius);margin:0 0 16px;border:1px solid}
.flash-ok{background:var(--ok-soft);border-color:#bfe3ca;color:#0f5132}
.flash-info{background:var(--info-soft);border-color:#c6dafa;color:#0b3d91}
.flash-warn{background:var(--warn-soft);border-color:#f3d9a6;color:#6b3d00}
.flash-error{background:var(--bad-soft);border-color:#f5c4bf;color:#8a1c13}
.issues{list-style:none;margin:8px 0;padding:0;border:1px solid #f5c4bf;border-radius:var(--radius);background:#fffafa}
.issue{padding:8px 12px;border-bottom:1px solid #f8dcd9;display:grid;gap:2px}
.issue:last-child{border-bottom:0}
.issue-where{font-weight:600;color:#8a1c13}
.issue .field{font-family:${MONO_STACK};font-weight:400}
.issue-msg{color:var(--muted);font-size:12.5px}
.picks-bar{display:flex;gap:12px;align-items:center;margin:0 0 10px;flex-wrap:wrap}
tr.royalty-row td{background:#fbfaff}
.royalty-box{border-left:3px solid var(--progress);padding:4px 0 4px 12px}
.royalty-head{margin-bottom:6px}
table.royalty-parts{width:auto;margin:4px 0 8px}
table.royalty-parts th,table.royalty-parts td{padding:4px 10px;border-bottom:1px solid var(--border)}
.royalty-to{display:flex;gap:8px;align-items:center;flex-wrap:wrap}
.cell-issues{margin:4px 0 0;padding:0;list-style:none;font-size:12px;color:var(--bad)}
.secret{display:flex;gap:8px;align-items:center;background:#0f1720;color:#b6f0c4;padding:10px 14px;border-radius:var(--radius);
  font-family:${MONO_STACK};font-size:14px;word-break:break-all}
.secret code{background:transparent;color:inherit;padding:0;font-size:inherit}

/* pagination */
.pager{display:flex;justify-content:space-between;align-items:center;margin-top:12px;gap:12px;flex-wrap:wrap}
.pager-links{display:flex;gap:10px;align-items:center}

/* timeline */
.steps{display:flex;list-style:none;padding:0;margin:4px 0 18px;gap:0;flex-wrap:wrap}
.steps li{flex:1;min-width:120px;position:relative;padding:24px 8px 0;text-align:center;color:var(--muted);font-size:12.5px}
.steps li::before{content:"";position:absolute;top:7px;left:50%;width:14px;height:14px;margin-left:-7px;border-radius:50%;
  background:#fff;border:2px solid var(--border-strong);z-index:1}
.steps li::after{content:"";position:absolute;top:13px;left:-50%;width:100%;height:2px;background:var(--border-strong)}
.steps li:first-child::after{display:none}
.steps li.done{color:var(--text)}
.steps li.done::before{background:var(--ok);border-color:var(--ok)}
.steps li.done::after{background:var(--ok)}
.steps li.current::before{background:var(--primary);border-color:var(--primary);box-shadow:0 0 0 4px var(--primary-soft)}
.steps li.current{color:var(--text);font-weight:600}
.steps li.failed::before{background:var(--bad);border-color:var(--bad)}
.steps li.failed{color:var(--bad);font-weight:600}
.steps li.attention::before{background:#f59f00;border-color:#f59f00}
.steps li.attention{color:var(--warn);font-weight:600}
.steps .at{display:block;font-weight:400;color:var(--muted);font-size:11.5px}
.timeline{list-style:none;margin:0;padding:0 0 0 18px;border-left:2px solid var(--border)}
.timeline li{position:relative;padding:0 0 14px 12px}
.timeline li:last-child{padding-bottom:2px}
.timeline li::before{content:"";position:absolute;left:-25px;top:5px;width:10px;height:10px;border-radius:50%;
  background:var(--surface);border:2px solid var(--primary)}
.timeline .meta{color:var(--muted);font-size:12px;display:flex;gap:10px;flex-wrap:wrap;align-items:center}

/* charts */
.chart{width:100%;height:auto;display:block}
.chart.gauge{width:170px;flex:none}
.gauge-row{display:flex;gap:24px;align-items:center;flex-wrap:wrap}
.gauge-row dl{margin:0;display:grid;grid-template-columns:auto auto;gap:4px 16px}
.gauge-row dt{color:var(--muted)}
.gauge-row dd{margin:0;font-weight:600;font-variant-numeric:tabular-nums;text-align:right}
.chart text{font-family:${FONT_STACK};font-size:11px;fill:#66788a}
.chart .axis{stroke:#cbd2d9;stroke-width:1}
.chart .grid-line{stroke:#eef1f4;stroke-width:1}
.chart .s-ok{fill:#2f9e58}.chart .s-bad{fill:#e5534b}.chart .s-amount{fill:#3b82f6}
.chart .s-accepted{fill:#2f9e58}.chart .s-duplicate{fill:#a3b1bf}.chart .s-rejected{fill:#e5534b}
.chart .s-p50{fill:#60a5fa}.chart .s-p95{fill:#2563eb}.chart .s-max{fill:#1e3a8a}
.chart .track{fill:#eef1f4}
.chart .gauge-text{font-size:17px;font-weight:600;fill:#1f2933}
.chart rect.bar:hover{opacity:.8}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:12px;color:var(--muted);margin:4px 0 0}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.legend .l-ok{background:#2f9e58}.legend .l-bad{background:#e5534b}.legend .l-amount{background:#3b82f6}

/* login */
.login-card{max-width:380px;margin:48px auto 0}
.login-card .card{padding:26px 28px}
.login-card input[type=text],.login-card input[type=password]{width:100%}
.login-card .btn{width:100%;justify-content:center}

/* template page (the seeds' 退款模板界面) */
.template-form{max-width:760px}
.template-form textarea{min-height:150px}
.template-form input[name=batch_num]{width:120px}
.split{display:grid;grid-template-columns:minmax(0,2fr) minmax(0,1fr);gap:18px}
@media (max-width:1400px){.brand-sub{display:none}}
@media (max-width:900px){.split{grid-template-columns:1fr}.grid-2{grid-template-columns:1fr}.brand-sub{display:none}}

/* the phone menu's toggle (CSS only: a checkbox and its label; hidden on wider screens) */
.nav-toggle-box,.nav-toggle{display:none}

/* export links, the failed records' redo form, live pages */
.export-links{display:inline-flex;gap:6px;flex-wrap:wrap;margin-left:auto}
.redo-form{margin-top:8px}
.live-status{display:flex;align-items:center;gap:6px;margin:-8px 0 10px;justify-content:flex-end}
.live-dot{width:8px;height:8px;border-radius:50%;background:var(--ok);display:inline-block}
.live-status[data-live-final] .live-dot{background:var(--off)}
.live-updated .live-dot{box-shadow:0 0 0 3px var(--ok-soft)}

/* phones (390 px): the menu is collapsed behind a 菜单/Menu toggle, the header wraps, tables scroll inside their
   card, nothing makes the page wider than the screen */
@media (max-width:700px){
  html{font-size:13px}
  .container,.topbar-inner{padding:0 12px}
  .topbar-inner{flex-wrap:wrap;gap:6px 12px;padding-top:6px;padding-bottom:6px}
  .nav-toggle-box{display:block;position:absolute;opacity:0;width:1px;height:1px;margin:0;pointer-events:none}
  .nav-toggle{display:inline-flex;align-items:center;gap:4px;order:2;color:#dce6f2;border:1px solid #34506f;border-radius:6px;
    padding:3px 9px;cursor:pointer;white-space:nowrap;user-select:none}
  .nav-toggle-box:focus-visible+.nav-toggle{outline:2px solid #4d9bff}
  .nav-toggle-box:checked+.nav-toggle{background:#1d3d66;color:#fff}
  .userbox{order:3}
  .mainnav{display:none;order:4;flex:1 0 100%;min-width:0;flex-wrap:wrap;gap:4px;padding:4px 0 6px}
  .nav-toggle-box:checked~.mainnav{display:flex}
  .mainnav a{padding:6px 10px;flex:1 0 calc(50% - 4px)}
  .userbox{gap:8px;min-width:0}
  .userbox .user{max-width:90px;overflow:hidden;text-overflow:ellipsis}
  main.container{padding-top:14px}
  h1{font-size:20px}
  .card{padding:12px;min-width:0}
  .grid,.grid-2{grid-template-columns:minmax(0,1fr)}
  .kpis{grid-template-columns:repeat(2,minmax(0,1fr));gap:10px}
  .kpi .value{font-size:20px}
  .fields{grid-template-columns:minmax(0,1fr) minmax(0,1fr)}
  .toolbar .grow{min-width:0;flex:1 0 100%}
  .toolbar .field{min-width:0;max-width:100%}
  .table-wrap{max-width:100%}
  pre{max-width:100%;overflow-x:auto}
  svg{max-width:100%;height:auto}
  .footer .container{gap:4px 12px;overflow-wrap:anywhere}
  .footer code{overflow-wrap:anywhere}
  .export-links{margin-left:0}
  .steps{flex-direction:column;flex-wrap:nowrap;gap:10px}
  .steps li{min-width:0;text-align:left;padding:0 0 0 24px}
  .steps li::before{left:0;top:2px;margin-left:0}
  .steps li::after{left:6px;top:-12px;width:2px;height:14px}
  .steps .at{display:inline;margin-left:8px}
}
`;

export const CONSOLE_JS = `(function(){
  'use strict';
  function boxes(form){return Array.prototype.slice.call(form.querySelectorAll('input[type=checkbox][data-pick]:not([disabled])'));}
  function count(form){
    var n=boxes(form).filter(function(b){return b.checked;}).length+(Number(form.getAttribute('data-picks-base'))||0);
    var out=form.querySelectorAll('[data-selected-count]');
    for(var i=0;i<out.length;i++){out[i].textContent=String(n);}
  }
  document.addEventListener('change',function(e){
    var el=e.target;
    if(!(el instanceof HTMLInputElement)||!el.form){return;}
    if(el.hasAttribute('data-select-all')){boxes(el.form).forEach(function(b){b.checked=el.checked;});}
    if(el.hasAttribute('data-select-all')||el.hasAttribute('data-pick')){count(el.form);}
  });
  document.addEventListener('submit',function(e){
    var form=e.target;
    var submitter=e.submitter;
    var msg=(submitter&&submitter.getAttribute('data-confirm'))||form.getAttribute('data-confirm');
    if(msg&&!window.confirm(msg)){e.preventDefault();}
  });
  // Enter in a field marked data-enter="ID" presses that button (the form's first button may be another one:
  // on the trades list, Enter in the reason field previews rather than searches). Without JS, Enter searches.
  document.addEventListener('keydown',function(e){
    var el=e.target;
    if(e.key!=='Enter'||!(el instanceof HTMLInputElement)){return;}
    var id=el.getAttribute('data-enter');
    var button=id&&document.getElementById(id);
    if(button){e.preventDefault();button.click();}
  });
  // Live pages (batch, dashboard): an element with data-live="URL" makes the script poll URL (JSON {v, final})
  // with backoff (1 s, growing to 15 s while nothing changes, slower when the tab is hidden); when v changes it
  // fetches this page again and swaps <main>, unless the operator is typing in a field of it. No reload.
  function live(){
    var marker=document.querySelector('[data-live]');
    if(!marker||marker.getAttribute('data-live-final')==='1'||!window.fetch||!window.DOMParser){return;}
    var url=marker.getAttribute('data-live');
    var last=marker.getAttribute('data-live-v');var wait=1000;var busy=false;
    function typing(){
      var a=document.activeElement;var main=document.querySelector('main');
      return !!(a&&main&&main.contains(a)&&/^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName));
    }
    function swap(done){
      fetch(window.location.href,{credentials:'same-origin',headers:{'x-live':'1'}}).then(function(r){
        if(!r.ok){throw new Error(String(r.status));}
        return r.text();
      }).then(function(text){
        var doc=new DOMParser().parseFromString(text,'text/html');
        var fresh=doc.querySelector('main');var main=document.querySelector('main');
        if(fresh&&main){main.innerHTML=fresh.innerHTML;document.title=doc.title;}
        var m=document.querySelector('[data-live]');
        if(m){m.classList.add('live-updated');}
        forms();
        done(!m||m.getAttribute('data-live-final')==='1');
      }).catch(function(){done(false);});
    }
    function tick(){
      if(busy){return;}
      busy=true;
      fetch(url,{credentials:'same-origin',headers:{accept:'application/json'}}).then(function(r){
        if(!r.ok){throw new Error(String(r.status));}
        return r.json();
      }).then(function(j){
        if(last===null||j.v===last||typing()){
          if(last===null){last=j.v;}
          wait=Math.min(15000,Math.round(wait*1.5));
          busy=false;if(!j.final||last!==j.v){schedule();}
          return;
        }
        swap(function(stop){last=j.v;wait=1000;busy=false;if(!stop){schedule();}});
      }).catch(function(){wait=Math.min(60000,wait*2);busy=false;schedule();});
    }
    function schedule(){setTimeout(tick,document.hidden?Math.max(wait,15000):wait);}
    schedule();
  }
  function forms(){
    var list=document.querySelectorAll('form');
    for(var i=0;i<list.length;i++){count(list[i]);}
  }
  document.addEventListener('DOMContentLoaded',function(){
    forms();
    live();
  });
})();
`;

export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect x="1" y="1" width="30" height="30" rx="8" fill="#1677ff"/><path d="M9 17.5h9.5a4.5 4.5 0 0 0 0-9H12M12 5l-3.5 3.5L12 12M9 22h14" fill="none" stroke="#fff" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"/></svg>';

/** Changes whenever the assets change (cache busting for `?v=`). */
export const ASSET_VERSION = createHash('sha256')
  .update(CONSOLE_CSS)
  .update(CONSOLE_JS)
  .digest('hex')
  .slice(0, 10);
