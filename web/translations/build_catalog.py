"""Rebuild zh_Hans_CN messages.po: pybabel extract -F web/translations/babel.cfg -o /tmp/m.pot . ; python web/translations/build_catalog.py /tmp/m.pot web/translations/zh_Hans_CN/LC_MESSAGES/messages.po ; pybabel compile -d web/translations"""
import re, sys
ZH = {
"Not found":"未找到","Internal error":"内部错误","The form expired or was not sent from this site; reload and try again.":"表单已过期或并非从本站提交；请刷新后重试。",
"Number":"卷号","State":"状态","Matter":"投诉事项","Complainant":"投诉人","Respondent":"被投诉人","Received":"收件时间","Documents":"文件",
"overdue":"已逾期","No dossiers.":"没有案卷。","Access log":"访问日志","User":"用户","Last days":"最近天数","Filter":"筛选","When":"时间","Who":"人员",
"Role":"角色","Action":"操作","Object":"对象","Outcome":"结果","Reason":"原因","Purpose":"目的","From":"来源","No entries.":"没有记录。",
"Dossier":"案卷","Complaint archive":"投诉档案","Dashboard":"工作台","Dossiers":"案卷","Register":"登记","Search":"检索","Sign out":"退出",
"Open dossiers":"在办案卷","Overdue":"逾期","Register a complaint":"登记投诉","Deadlines due":"待办期限","Time limit":"期限","Due":"到期日",
"Status":"状态","Nothing due.":"暂无到期事项。","Recent activity":"最近动态","OCR confidence":"OCR 置信度","Download":"下载","Original":"原件",
"This format cannot be shown here; download it.":"此格式无法在此显示，请下载查看。","Extracted text":"提取文本","No text was extracted.":"未提取到文本。",
"Upload documents":"上传文件","Registration":"登记信息","Channel":"投诉渠道","anonymous":"匿名","Contact":"联系方式","Request":"投诉请求",
"Facts and reasons":"事实与理由","Event date":"发生日期","Evidence":"证据","Expected remedy":"期望处理结果","Department":"承办部门",
"Receiving officer":"接单人","Category":"类别","Timeline":"办理进程","Deadlines":"办理期限","Started":"起算日","Item":"件号","File":"文件名",
"Kind":"类型","Filed":"归档时间","No documents yet.":"尚无文件。","any":"全部","Month":"月份","Overdue only":"仅看逾期","Back":"返回",
"Sign in":"登录","Sign-in failed: unknown name or wrong password.":"登录失败：用户名或密码错误。","Name":"用户名","Password":"密码",
"Complaint":"投诉","Complainant type":"投诉人类型","Anonymous":"匿名投诉","Collective: number of people":"集体投诉人数","Respondent type":"被投诉人类型",
"Referring body":"转办机关","Details":"详情","Evidence (one per line)":"证据（每行一项）",
"Words, or field:value (kind:, category:, respondent:, received:)":"关键词，或 字段:值（kind:、category:、respondent:、received:）",
"Relevance":"相关度","Newest":"最新","Oldest":"最早","%(n)s results":"共 %(n)s 条结果","Nothing found.":"未找到结果。","Files":"文件",
"Upload":"上传","Plain text: its content is shown beside.":"纯文本：内容见右侧。","Outcome per file":"逐个文件的处理结果","Pages":"页数","Characters":"字数","Message":"说明",
# administration
"Users":"用户","Regulator grants":"监管授权","Add a user":"新增用户","Departments (comma-separated)":"所属部门（以逗号分隔）",
"Add":"新增","Created":"创建","API tokens":"API 令牌","active":"有效","disabled":"已停用","Disable":"停用","No users.":"没有用户。",
"Add a grant":"新增授权","Regulator account":"监管机构账号","Dossier numbers (comma-separated)":"卷号（以逗号分隔）",
"or filter":"或筛选条件","Expires after":"有效期至","Grant":"授权","Scope":"范围","Granted":"授权时间","Expires":"到期时间",
"Revoke":"撤销","No grants.":"没有授权。","expired":"已过期","revoked":"已撤销","pending":"未生效",
# states
"registered":"已登记","accepted":"已受理","not_accepted":"不予受理","investigating":"调查中","decided":"已作出决定","replied":"已答复",
"closed":"已办结","sealed":"已归档封存","disposed":"已处置","void":"已撤销",
# channels
"letter":"信函","fax":"传真","email":"电子邮件","oral":"当面口头","phone":"电话","online":"网上","chat":"在线咨询","comment_book":"意见簿",
"visit":"来访","media":"媒体","referral":"转办","ticket":"工单","internal":"内部","other":"其他",
# complainant / respondent types
"applicant":"法律援助申请人","aid_recipient":"受援人","interested_party":"利害关系人","family_member":"近亲属","agent":"代理人",
"legal_aid_institution":"法律援助机构","law_firm":"律师事务所","grassroots_legal_service":"基层法律服务所","other_organisation":"其他社会组织",
"legal_aid_personnel":"法律援助人员",
# document kinds
"complaint_letter":"投诉信","oral_complaint_record":"口头投诉记录","power_of_attorney":"授权委托书","acceptance_notice":"受理通知书",
"non_acceptance_notice":"不予受理通知书","investigation_minutes":"调查笔录","decision":"处理决定","reply_letter":"答复函",
"extension_notice":"延期通知书","follow_up_record":"回访记录",
# outcomes
"ok":"成功","ok_with_warnings":"成功（有警告）","encrypted":"已加密","corrupt":"文件损坏","unsupported":"不支持的格式","too_large":"文件过大","duplicate":"重复文件",
# roles
"admin":"管理员","archivist":"档案管理员","handler":"承办人","manager":"负责人","regulator":"监管机构","auditor":"审计员",
# clocks
"acceptance":"受理期限","conclusion":"办结期限","reply":"答复期限","not_started":"未起算","not_applicable":"不适用","running":"计时中",
"due_today":"今日到期","met":"按期完成","missed":"逾期完成",
# actions, log outcomes
"view_dossier":"查看案卷","list_dossiers":"案卷列表","register":"登记","file_document":"归档文件","view_document":"查看原件",
"download_document":"下载原件","view_text":"查看文本","search":"检索","export":"导出","advance":"办理流转","seal":"封存","dispose":"处置",
"manage_users":"用户管理","manage_grants":"授权管理","read_audit_log":"查阅访问日志","verify_audit_log":"校验访问日志","sign_in":"登录",
"allowed":"允许","refused":"拒绝",
# facets
"kind":"文件类型","category":"类别","channel":"渠道","year":"年份","state":"状态",
# background upload (intake jobs)
"queued":"排队中","processing":"处理中","filed":"已归档","failed":"失败","Refresh":"刷新",
"Each file is stored encrypted and filed in the background (text extraction, OCR); this list updates itself.":"每个文件已加密保存，并在后台归档（文本提取、OCR）；本列表会自动更新。",
# upload queue (issue #17)
"Upload queue":"上传队列","Uploads that failed, or have waited longer than %(minutes)s minutes. A failed upload is kept until it is filed: retry it once the cause is fixed.":"此处列出处理失败或等待超过 %(minutes)s 分钟的上传。失败的上传在归档前会一直保留：排除原因后即可重试。","Retry all failed (%(n)s)":"全部重试（%(n)s 个失败）","Retry":"重试","Uploaded":"上传时间","Attempts":"尝试次数","Cause":"原因","Technical details":"技术细节","next attempt %(when)s":"下次尝试：%(when)s","No stuck uploads.":"没有滞留的上传。","Failed uploads":"上传失败","Long-queued uploads":"长时间排队的上传","manage_intake":"上传队列管理","unavailable":"服务暂不可用","worker_lost":"处理进程中断","error":"处理出错",
# access-log actions of retention and the archive as a whole (issue #9: every action in the policy)
"amend_sealed":"封存后补充材料","dispose_review":"处置初审","dispose_approve":"处置审批","hold":"设置保全（暂停处置）","hold_lift":"解除保全",
"view_retention":"查看保管期限","retention_plan":"重新计算保管期限","inventory":"清查盘点","verify_vault":"校验存储","manage_keys":"密钥管理",
"reindex":"重建检索索引","import":"导入移交包",
# back ends unavailable (issue #17): every 503
"The document store is temporarily unavailable; try again later.":"文件存储暂时不可用，请稍后再试。","The key service is temporarily unavailable; try again later.":"密钥服务暂时不可用，请稍后再试。","The search service is temporarily unavailable; try again later.":"检索服务暂时不可用，请稍后再试。","The catalogue database is temporarily unavailable; try again later.":"档案目录数据库暂时不可用，请稍后再试。","A service the archive needs is temporarily unavailable; try again later.":"档案系统所需的服务暂时不可用，请稍后再试。",
# degraded mode: the dashboard banner (issue #17 item 3)
"Running in degraded mode: some back ends do not answer. Everything that does not need them works.":"系统降级运行：部分后端服务无法连接，不依赖这些服务的功能仍可正常使用。",
"Search is unavailable: searching fails until it returns. Documents filed meanwhile wait in a queue (%(n)s changes) and become searchable by themselves when it is back.":"全文检索暂不可用：恢复前无法检索。期间归档的文件已进入队列（%(n)s 项变更待处理），检索恢复后将自动可检索，无需人工操作。",
"The document store is unavailable: documents cannot be filed, viewed or downloaded until it returns.":"文件存储暂不可用：恢复前无法归档、查看或下载文件。",
"The key service is unavailable: documents cannot be filed, viewed or downloaded until it returns.":"密钥服务暂不可用：恢复前无法归档、查看或下载文件。",
"%(name)s is unavailable.":"%(name)s 暂不可用。",
# monthly statistics (dashboard)
# retention on the dossier page
"Retention":"保管期限","Rule":"规则","planned when sealed":"封存时确定","Disposal date":"处置日期","permanent":"永久保存",
"from %(trigger)s":"自%(trigger)s起算","Legal hold":"保全（暂停处置）","closure":"办结",
"Statistics for %(month)s":"%(month)s 统计","whole archive":"全部档案","Figures as of %(day)s":"数据截至 %(day)s","Complaints received":"收到投诉","Previous month: %(n)s":"上月：%(n)s","Closed this month":"本月办结","Open and overdue":"在办逾期","Deadlines met":"期限按时完成率","By category":"按类别","Download the report":"下载统计报表",
}
def q(s): return '"' + s.replace('\\','\\\\').replace('"','\\"') + '"'
pot = open(sys.argv[1]).read()
ids = re.findall(r'^msgid "(.*)"$', pot, re.M)
ids = [i for i in ids if i] 
extra = [k for k in ZH if k not in ids]
out = ['msgid ""', 'msgstr ""', '"Content-Type: text/plain; charset=UTF-8\\n"', '"Language: zh_CN\\n"', '"Plural-Forms: nplurals=1; plural=0;\\n"', '']
missing = []
for i in ids + extra:
    i2 = i.replace('\\"','"')
    if i2 not in ZH: missing.append(i2)
    out += [f'msgid {q(i2)}', f'msgstr {q(ZH.get(i2, ""))}', '']
open(sys.argv[2], 'w').write("\n".join(out))
print("missing", missing)
