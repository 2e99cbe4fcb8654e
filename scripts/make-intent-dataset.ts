/**
 * Writes datasets/intents/{train,val,test}.jsonl and its README: a labelled English/Chinese
 * e-commerce query set for the intent classifier, generated from the hand-written templates
 * and slot fillers below. Seeded, so re-running it reproduces the committed files exactly.
 *
 *   node --import tsx scripts/make-intent-dataset.ts [--seed 7] [--out datasets/intents]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_INTENT_LABELS } from '../src/models/intent-labels.ts';
import { Rng } from '../src/models/onnx/rng.ts';

/** The shipped label set, in id order (shared with the intent model builder and routing). */
export const INTENT_LABELS = DEFAULT_INTENT_LABELS;
type Label = (typeof INTENT_LABELS)[number];
type Lang = 'en' | 'zh';

/** Unique lines wanted per label and language (before the split). */
const TARGET: Record<Lang, number> = { en: 125, zh: 95 };
const SPLIT = { train: 0.7, val: 0.15, test: 0.15 };
const DEFAULT_SEED = 7;

// ---------------------------------------------------------------------------------------
// Slot fillers. A template names them as {key}; Chinese templates may borrow an English
// filler with {key_en} (code-switching, as people type "nike的跑鞋").

const EN: Record<string, readonly string[]> = {
  brand: ['nike', 'adidas', 'puma', 'new balance', 'asics', 'uniqlo', 'zara', 'sony', 'apple', 'samsung', 'casio', 'ikea', 'li-ning', 'anta', "levi's", 'the north face', 'xiaomi', 'muji', 'converse', 'vans', 'huawei', 'under armour', 'skechers', 'reebok'],
  cat: ['running shoes', 'sneakers', 'boots', 't-shirts', 'hoodies', 'jeans', 'dresses', 'caps', 'backpacks', 'handbags', 'mugs', 'water bottles', 'watches', 'headphones', 'sunglasses', 'socks', 'jackets', 'shorts', 'sandals', 'earbuds', 'leggings', 'rain jackets', 'trainers', 'tote bags'],
  item: ['running shoes', 'sneakers', 'boots', 't-shirt', 'hoodie', 'jeans', 'dress', 'cap', 'backpack', 'handbag', 'mug', 'water bottle', 'watch', 'headphones', 'sunglasses', 'jacket', 'earbuds', 'rain jacket', 'leggings', 'sandals'],
  color: ['red', 'blue', 'black', 'white', 'green', 'yellow', 'pink', 'purple', 'grey', 'gray', 'brown', 'orange', 'beige', 'navy', 'olive', 'cream'],
  gender: ["men's", "women's", "kids'", 'unisex', 'mens', 'womens'],
  who: ['men', 'women', 'kids', 'my son', 'my daughter', 'toddlers', 'teens'],
  size: ['size 9', 'size 10.5', 'size 8', 'size M', 'size XL', 'size S', 'W32 L32', 'EU 42', 'size 38', 'UK 7'],
  price: ['$50', '$80', '$100', '$30', '$200', '50 dollars', '80 bucks', '120 usd', '$25', '$150'],
  feature: ['waterproof', 'wireless', 'noise cancelling', 'lightweight', 'breathable', 'insulated', 'slim fit', 'oversized', 'vegan', 'wide fit', 'stainless steel', 'organic cotton', 'leather', 'retro', 'minimalist'],
  activity: ['running', 'hiking', 'the gym', 'the office', 'travel', 'school', 'a wedding', 'marathon training', 'winter', 'the beach', 'commuting', 'yoga'],
  model: ['air force 1', 'air max 90', 'stan smith', 'samba', 'gel-kayano 30', 'ultraboost', 'wh-1000xm5', 'airpods max', 'airpods pro', 'g-shock ga-2100', 'f-91w', '501 jeans', 'galaxy watch6', 'apple watch se', 'new balance 550', 'chuck taylor', 'old skool', 'pegasus 41', 'nuptse jacket', 'redmi buds'],
  relation: ['mom', 'dad', 'girlfriend', 'boyfriend', 'sister', 'brother', 'wife', 'husband', 'grandpa', 'coworker'],
  order: ['#4829301', '#1029384', 'order 7734521', '#55100923', 'order no. 20240611-883', '#3300127', 'order 9182736', '#771002'],
  days: ['3 days', 'a week', 'two weeks', '10 days', '5 days', 'a month'],
  place: ['canada', 'the uk', 'germany', 'australia', 'hong kong', 'singapore', 'new york', 'texas', 'my office', 'a po box'],
  problem: ['arrived damaged', 'came with a hole', 'came in the wrong size', 'came in the wrong colour', 'stopped working after a week', 'came with a part missing', 'looked used', 'smelled weird', 'broke on the first day', 'looked nothing like the picture'],
  courier: ['ups', 'fedex', 'dhl', 'usps', 'royal mail', 'the courier'],
};

const ZH: Record<string, readonly string[]> = {
  brand: ['耐克', '阿迪达斯', '阿迪', '彪马', '新百伦', '亚瑟士', '优衣库', '索尼', '苹果', '三星', '卡西欧', '宜家', '李宁', '安踏', '李维斯', '北面', '小米', '无印良品', '华为', '匡威', '斯凯奇', '特步', '361度'],
  cat: ['跑鞋', '板鞋', '运动鞋', '靴子', 'T恤', '卫衣', '牛仔裤', '连衣裙', '棒球帽', '背包', '双肩包', '手提包', '马克杯', '水杯', '保温杯', '手表', '耳机', '蓝牙耳机', '墨镜', '袜子', '羽绒服', '短裤', '凉鞋', '外套', '冲锋衣', '篮球鞋'],
  color: ['红色', '蓝色', '黑色', '白色', '绿色', '黄色', '粉色', '紫色', '灰色', '棕色', '橙色', '米色', '藏青色', '军绿色', '酒红色', '浅蓝色'],
  gender: ['男款', '女款', '儿童', '男士', '女士', '男生', '女生', '情侣款'],
  size: ['42码', '38码', 'M码', 'XL码', '均码', '40码', '43码', 'L码', '36码', '170/88A'],
  price: ['100元', '200块', '三百块', '50元', '500元', '一千块', '80块', '150元', '两百', '99元'],
  feature: ['防水', '透气', '轻便', '降噪', '无线', '保暖', '宽松', '修身', '纯棉', '真皮', '防滑', '大容量', '复古', '加绒', '速干'],
  activity: ['跑步', '爬山', '健身', '上班', '旅游', '上学', '打篮球', '冬天', '通勤', '露营'],
  relation: ['妈妈', '爸爸', '女朋友', '男朋友', '老婆', '老公', '孩子', '爷爷', '同事', '闺蜜'],
  order: ['2024061188312', '118923746', '5501239984', 'SF1029384756', '7734521', 'JD0098123', '3300127654'],
  days: ['三天', '一周', '五天', '半个月', '十天', '两天'],
  place: ['上海', '北京', '广州', '深圳', '成都', '香港', '杭州', '新疆', '公司', '学校'],
  problem: ['有破洞', '尺码不对', '颜色发错了', '用了一周就坏了', '少了配件', '像是二手的', '有异味', '开胶了', '跟图片不一样', '屏幕有划痕'],
  courier: ['顺丰', '京东物流', '中通', '圆通', '韵达', 'EMS', '快递小哥'],
};

// ---------------------------------------------------------------------------------------
// Templates, written by hand per intent and language.

const TEMPLATES: Record<Label, Record<Lang, readonly string[]>> = {
  product_search: {
    en: [
      '{color} {brand} {cat}', '{brand} {cat} in {color}', 'show me {color} {cat}', "i'm looking for {gender} {cat}",
      '{cat} for {who}', '{feature} {cat}', '{color} {cat} {size}', 'do you have {color} {cat}', 'need new {cat}',
      '{brand} {cat} under {price}', '{color} {cat} under {price}', 'looking for a {feature} {item}', 'find me {brand} {cat}',
      '{gender} {color} {cat}', 'any {color} {cat} in stock?', 'search {cat}', '{cat}', '{brand} {item} {color} {size}',
      'i want to buy {cat}', 'where can i find {feature} {cat}', 'best {cat} for {activity}', 'gift for my {relation}, {color} {item}',
      '{model} {color}', '{model} {size}', 'something {color} to wear to {activity}', '{feature} {color} {item} for {who}',
      'Show me all {cat} from {brand}, {color} only', 'can you find {cat} similar to the {model}',
      '{item} {color} {gender}', 'I need a {color} {item} for {activity}', 'got any {feature} {cat}', '{color} and white {cat}',
      'a {feature} {item} that goes with {color} {cat}', 'pls find {gender} {cat} {size}', 'new arrivals in {cat}',
    ],
    zh: [
      '{color}{brand}{cat}', '{brand}{color}{cat}', '想买{color}的{cat}', '有没有{feature}的{cat}', '{gender}{cat}',
      '{price}以下的{color}{brand}{cat}', '找一下{brand}的{cat}', '推荐几款{feature}{cat}', '{cat} {size}', '给{relation}买{cat}',
      '{brand_en}{cat}', '{color}的{cat_en}', '搜索{cat}', '我要{color}{cat}，{size}', '适合{activity}的{cat}', '{model_en}{color}',
      '有{color}{cat}吗', '帮我找{gender}{feature}{cat}', '{brand} {cat} {color} {size}', '想要一双适合{activity}的鞋', '{feature}{color}{cat}',
      '求推荐{gender}{cat}', '{color}{cat}有哪些', '想找{brand_en}的{color}{cat}', '我想看看{cat}', '{cat}新款', '{gender}{color}{feature}{cat}',
      '买个{feature}的{cat}送{relation}', '有没有跟{model_en}差不多的{cat}', '{price}左右的{cat}', '{color}{cat_en} {size}',
    ],
  },
  brand_navigation: {
    en: [
      '{brand} store', '{brand} official shop', 'show me everything from {brand}', 'go to the {brand} page', 'all {brand} products',
      'take me to {brand}', 'what does {brand} sell here', 'browse {brand}', '{brand} new arrivals', '{brand} brand page', 'shop by brand {brand}',
      'do you carry {brand}?', 'open {brand} flagship store', 'is {brand} available on this site', 'list {brand} collection',
      'which brands do you have', 'show me brands like {brand}', '{brand} latest collection', 'i only want {brand}', 'anything from {brand}?',
      '{brand} outlet page', 'see all brands', '{brand} and {brand} stores', 'who makes the {model}', 'brand {brand}', 'Take me to the {brand} section please',
      'do you sell {brand} or only {brand}', '{brand} x {brand} collab', 'what brands of {cat} do you stock', 'official {brand} merchandise',
    ],
    zh: [
      '{brand}旗舰店', '{brand}官方店', '看看{brand}的店铺', '{brand}专卖店', '{brand}全部商品', '进入{brand}品牌页', '{brand}有哪些产品',
      '{brand}新品', '你们有{brand}吗', '{brand_en}官方旗舰店', '{brand_en}专区', '逛逛{brand}', '{brand}品牌专区在哪', '有哪些品牌',
      '和{brand}类似的品牌', '只看{brand}', '{brand}的店', '{brand}最新系列', '{brand}联名款', '去{brand_en}的页面', '{brand}品牌馆',
      '你们卖不卖{brand}', '{brand_en} store', '{brand}官网同款在哪买', '打开{brand}店铺', '{cat}有哪些牌子', '{brand}和{brand}的店',
    ],
  },
  price_deal: {
    en: [
      'any discounts on {brand} {cat}', 'cheapest {cat}', '{cat} on sale', 'is the {model} on sale?', 'coupon code for {brand}',
      'best deals on {cat}', 'black friday {cat} deals', 'price drop on {model}', 'do you price match', '{brand} promo code',
      'clearance {cat}', 'what is the lowest price for {model}', 'any bundle offers for {cat}', 'student discount?', 'buy one get one free {cat}',
      'when is the next sale', 'are there deals on {color} {cat}', 'cheap {cat} for {who}', 'budget {cat} under {price}', 'last chance sale {brand}',
      'how much is the {model}', 'discount code not first order', '{cat} bargains', 'will the {model} get cheaper', 'today\'s flash deals',
      'outlet prices for {brand}', 'member price for {cat}', 'free shipping coupon', 'cyber monday {brand} sale', 'Is there a sale on {cat} this week?',
      'price of {model} in {color}', 'most affordable {item}',
    ],
    zh: [
      '{brand}{cat}打折吗', '最便宜的{cat}', '{cat}特价', '{model_en}有优惠吗', '{brand}优惠券', '{cat}满减活动', '双十一{cat}优惠',
      '{model_en}降价了吗', '有没有折扣', '{brand}促销', '清仓{cat}', '{model_en}最低多少钱', '{cat}买一送一', '学生有优惠吗',
      '下次大促是什么时候', '{color}{cat}有活动吗', '便宜点的{cat}', '{price}以内最划算的{cat}', '{brand}限时秒杀', '{model_en}多少钱',
      '领券', '{cat}有没有满{price}减', '618{brand}有什么活动', '会员价', '包邮吗还有券吗', '{cat}性价比最高的', '今天的秒杀',
      '{brand_en} 折扣码', '{cat}便宜的有没有', '能不能再便宜点', '{brand}{cat}什么时候打折',
    ],
  },
  product_question: {
    en: [
      'is the {model} waterproof?', 'does this {item} shrink in the wash', 'what is the battery life of the {model}', 'do {brand} {cat} run small',
      'is this {item} true to size', 'what material is the {model} made of', 'can i put this mug in the microwave', 'is the {item} machine washable',
      'how heavy is the {model}', 'does the {model} have noise cancelling', 'are these {cat} good for {activity}', 'difference between {model} and {model}',
      'does it come in {color}', 'what size should i get if i wear {size} in {brand}', 'is the {item} {feature}?', 'how long does the battery last',
      'is the {model} compatible with android', 'does the water bottle keep drinks cold', 'what is the warranty on {brand} {cat}', 'are the {cat} unisex',
      'will this {item} fit a 15 inch laptop', 'how do i clean {color} {cat}', 'does the {model} have a heart rate monitor', 'is it real leather?',
      'what is the heel drop on the {model}', 'can i swim with the {model}', 'Is this {item} suitable for {who}?', 'how does {brand} sizing compare to {brand}',
      'does the {item} have pockets', 'is the {model} dishwasher safe', 'what colours does the {model} come in',
    ],
    zh: [
      '这款{cat}防水吗', '这件{cat}洗了会缩水吗', '{model_en}续航多久', '{brand}的{cat}偏大还是偏小', '尺码标准吗', '这个{cat}是什么材质',
      '杯子能放微波炉吗', '可以机洗吗', '{model_en}重不重', '{model_en}有降噪吗', '这双鞋适合{activity}吗', '{model_en}和{model_en}有什么区别',
      '有{color}的吗', '平时穿{size}应该买多大', '{cat}{feature}吗', '电池能用多久', '{model_en}能连安卓手机吗', '保温杯能保温多久',
      '{brand}{cat}保修多久', '这款是男女同款吗', '能装下15寸笔记本吗', '{color}{cat}怎么清洗', '{model_en}能测心率吗', '是真皮的吗',
      '这双跑鞋适合宽脚吗', '{model_en}能戴着游泳吗', '适合{relation}穿吗', '{brand}和{brand}的尺码一样吗', '这个{cat}有口袋吗', '会不会掉色',
      '{cat}是正品吗', '这款{cat}透气吗',
    ],
  },
  order_delivery: {
    en: [
      'where is my order', 'track order {order}', 'when will my package arrive', 'do you ship to {place}?', 'change delivery address for {order}',
      'my order {order} still says processing', 'how long does shipping take', "package hasn't arrived after {days}", 'can i get express delivery',
      'what is the tracking number for {order}', 'has my order shipped yet', 'delivery status', 'is shipping free over {price}', '{courier} says delivered but nothing here',
      'can i cancel order {order}', 'when will the {model} ship', 'my parcel is stuck in customs', 'estimated delivery date for {order}',
      'can i pick up my order in store', 'i ordered {cat} {days} ago, where are they', 'update shipping address', 'order confirmation email never came',
      'can you deliver on saturday', 'which courier do you use', 'Where is order {order}??', 'is my order lost', 'ship to {place} how much',
      'add an item to my order {order}', 'delivery was missed, reschedule please',
    ],
    zh: [
      '我的快递到哪了', '查一下订单{order}', '什么时候发货', '能寄到{place}吗', '修改收货地址', '订单{order}一直显示处理中', '一般几天能到',
      '等了{days}还没到', '可以发顺丰吗', '物流单号是多少', '我的订单发货了吗', '查物流', '满多少包邮', '{courier}显示签收了但我没收到',
      '取消订单{order}', '{model_en}什么时候发货', '包裹卡在海关了', '预计什么时候送达', '可以门店自提吗', '{days}前买的{cat}怎么还没到',
      '改一下收货地址', '没收到订单确认邮件', '周末能送货吗', '用的哪家快递', '订单号{order}物流不动了', '快递是不是丢了',
      '发到{place}要多少运费', '催一下发货', '能不能加急', '送货上门吗',
    ],
  },
  returns_complaints: {
    en: [
      'i want to return these {cat}', 'refund not received yet', 'my {item} {problem}', 'how do i exchange for {size}', 'the {model} {problem}, i want my money back',
      'return policy for {cat}', 'you sent me the wrong item', 'worst customer service ever', 'still waiting for my refund after {days}', 'how do i send back order {order}',
      'exchange {color} {item} for another colour', 'the package was damaged', 'i was charged twice', 'can i return sale items', 'this {item} is a fake',
      'start a return', 'my {cat} fell apart', 'missing item in order {order}', 'i want to file a complaint', 'return label please',
      'product {problem} and nobody answers', 'refund to original payment method?', 'this is unacceptable, the {item} {problem}', 'how many days do i have to return',
      'I need to speak to a manager about my refund', 'exchange not processed', 'the {model} i got {problem}', 'cancel and refund please',
    ],
    zh: [
      '我要退货', '退款还没到账', '收到的{cat}{problem}', '怎么换{size}', '{model_en}{problem}，要求退款', '{cat}支持七天无理由退货吗',
      '发错货了', '客服态度太差了', '退款{days}了还没到', '订单{order}怎么退', '{color}的{cat}想换个颜色', '包裹破损了', '被扣了两次钱',
      '特价商品能退吗', '买到假货了', '申请售后', '{cat}质量太差了', '订单{order}少发了东西', '我要投诉', '退货运费谁出', '{cat}{problem}，没人处理',
      '退款退到哪里', '太过分了，{cat}{problem}', '几天内可以退', '我要找你们经理', '换货一直没处理', '要求赔偿', '不想要了怎么退', '质量有问题能换新吗',
    ],
  },
  other: {
    en: [
      'hello', 'hi there', 'thanks!', 'thank you so much', "what's the weather like today", 'tell me a joke', 'who are you', 'are you a robot',
      'good morning', 'how are you', 'what time is it', 'bye', 'how do i reset my password', 'what are your opening hours', 'i love this app',
      'can i talk to a human', 'what is the capital of france', 'play some music', 'ok', 'never mind', 'lol', 'help', 'what can you do',
      'do you have a physical store in {place}', 'how do i delete my account', 'is this site safe', 'write me a poem', 'what is 2+2',
      'good night', 'who won the game last night', 'change language to english', 'sign me up for the newsletter', 'hey', 'test',
      'how do i change my email', 'recommend a good movie', "what's your name", 'i am bored',
    ],
    zh: [
      '你好', '在吗', '谢谢', '今天天气怎么样', '讲个笑话', '你是谁', '你是机器人吗', '早上好', '最近怎么样', '现在几点了', '再见',
      '密码忘了怎么办', '你们几点上班', '这个app真好用', '转人工', '法国首都是哪', '放首歌', '好的', '算了', '哈哈哈', '帮助', '你能做什么',
      '{place}有实体店吗', '怎么注销账号', '这个网站安全吗', '写首诗', '一加一等于几', '晚安', '昨晚比赛谁赢了', '切换成英文', '订阅邮件',
      '嗨', '测试', '怎么换绑手机号', '推荐部电影', '你叫什么名字', '好无聊啊', '在不在', '嗯嗯',
    ],
  },
};

// ---------------------------------------------------------------------------------------

export interface Row {
  text: string;
  label: Label;
}

export function makeIntentDataset(seed = DEFAULT_SEED): Record<'train' | 'val' | 'test', Row[]> {
  const rng = new Rng(seed);
  const out = { train: [] as Row[], val: [] as Row[], test: [] as Row[] };
  const seen = new Set<string>();
  for (const label of INTENT_LABELS) {
    for (const lang of ['en', 'zh'] as const) {
      const rows = generate(label, lang, TARGET[lang], seen, rng.fork(`${label}/${lang}`));
      // Stratified by label and language: every split gets its share of both.
      const shuffled = shuffle(rows, rng.fork(`split/${label}/${lang}`));
      const nVal = Math.round(shuffled.length * SPLIT.val);
      const nTest = Math.round(shuffled.length * SPLIT.test);
      out.test.push(...shuffled.slice(0, nTest));
      out.val.push(...shuffled.slice(nTest, nTest + nVal));
      out.train.push(...shuffled.slice(nTest + nVal));
    }
  }
  for (const k of ['train', 'val', 'test'] as const) out[k] = shuffle(out[k], rng.fork(`order/${k}`));
  return out;
}

function generate(label: Label, lang: Lang, target: number, seen: Set<string>, rng: Rng): Row[] {
  const templates = TEMPLATES[label][lang];
  const rows: Row[] = [];
  // Walk the templates round-robin so every one is used; fillers and noise make the variety.
  // Templates without slots produce one line and then only duplicates, which dedupe drops.
  for (let attempt = 0; rows.length < target && attempt < target * 40; attempt++) {
    const tpl = templates[attempt % templates.length]!;
    const text = addNoise(fill(tpl, lang, rng), lang, rng);
    const key = dedupeKey(text);
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({ text, label });
  }
  if (rows.length < target) throw new Error(`${label}/${lang}: only ${rows.length} unique lines for a target of ${target}; add templates`);
  return rows;
}

function fill(tpl: string, lang: Lang, rng: Rng): string {
  const used = new Set<string>();
  return tpl.replace(/\{(\w+?)(_en)?\}/g, (_, key: string, en?: string) => {
    const pool = (en || lang === 'en' ? EN : ZH)[key];
    if (!pool) throw new Error(`template "${tpl}" names an unknown filler {${key}}`);
    // Two slots of one kind in a template ("{brand} and {brand}") get different values.
    let v = pick(pool, rng);
    for (let i = 0; i < 5 && used.has(v); i++) v = pick(pool, rng);
    used.add(v);
    return v;
  });
}

/** What real typing looks like: some typos, odd casing, stray punctuation and politeness. */
function addNoise(text: string, lang: Lang, rng: Rng): string {
  let t = text;
  const r = () => rng.next();
  if (lang === 'en') {
    if (r() < 0.1) t = typo(t, rng);
    const c = r();
    if (c < 0.15) t = t[0]!.toUpperCase() + t.slice(1);
    else if (c < 0.19) t = t.toUpperCase();
    else if (c < 0.27) t = t.replace(/\b(nike|adidas|sony|apple|samsung|uniqlo|zara|ikea|casio|puma|asics|xiaomi|muji|anta)\b/g, (b) => b[0]!.toUpperCase() + b.slice(1));
    if (r() < 0.08) t = `${pick(['hi, ', 'hey ', 'pls ', 'please ', 'um ', 'quick question: '], rng)}${t}`;
    if (r() < 0.12 && !/[?!.]$/.test(t)) t += pick(['?', '!', '.', ' pls', ' thx', ' please'], rng);
  } else {
    if (r() < 0.12) t = t.replace(/[a-z]+/g, (w) => (r() < 0.5 ? w.toUpperCase() : w[0]!.toUpperCase() + w.slice(1)));
    if (r() < 0.1) t = `${pick(['请问', '你好，', '亲，', '麻烦', '那个', '想问下'], rng)}${t}`;
    if (r() < 0.15 && !/[？！。?!]$/.test(t)) t += pick(['？', '。', '呢', '啊', '呀', '！', '?', '~'], rng);
  }
  return t;
}

/** One slip of the finger: swap two letters, drop one, or double one, inside a longer word. */
function typo(text: string, rng: Rng): string {
  const words = text.split(' ');
  const idx = words.map((w, i) => (/^[a-z]{4,}$/i.test(w) ? i : -1)).filter((i) => i >= 0);
  if (!idx.length) return text;
  const wi = pick(idx, rng);
  const w = words[wi]!;
  const at = 1 + Math.floor(rng.next() * (w.length - 2));
  const kind = Math.floor(rng.next() * 3);
  words[wi] = kind === 0 ? w.slice(0, at) + w[at + 1] + w[at] + w.slice(at + 2) : kind === 1 ? w.slice(0, at) + w.slice(at + 1) : w.slice(0, at) + w[at] + w.slice(at);
  return words.join(' ');
}

/** Lines equal up to case, spaces and punctuation count as one (and so never straddle splits). */
export function dedupeKey(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/[\s\p{P}\p{S}]+/gu, '');
}

function pick<T>(items: readonly T[], rng: Rng): T {
  return items[Math.floor(rng.next() * items.length)]!;
}

function shuffle<T>(items: T[], rng: Rng): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

const isChinese = (t: string) => /\p{Script=Han}/u.test(t);

function readme(splits: Record<'train' | 'val' | 'test', Row[]>, seed: number): string {
  const names = ['train', 'val', 'test'] as const;
  const all = names.flatMap((n) => splits[n]);
  const zh = all.filter((r) => isChinese(r.text)).length;
  const row = (label: string, rows: (n: (typeof names)[number]) => Row[]) => {
    const cells = names.map((n) => rows(n).length);
    const zhCount = names.reduce((s, n) => s + rows(n).filter((r) => isChinese(r.text)).length, 0);
    const total = cells.reduce((a, b) => a + b, 0);
    return `| ${label} | ${cells.join(' | ')} | ${total} | ${total - zhCount} | ${zhCount} |`;
  };
  return `# Intent queries (English + Chinese)

A labelled e-commerce query set for the intent classifier: \`train.jsonl\`, \`val.jsonl\` and
\`test.jsonl\`, one \`{"text": ..., "label": ...}\` object per line. \`omnisearch train-intent\`
uses this folder by default.

## Origin

Written for this project. \`scripts/make-intent-dataset.ts\` holds hand-written templates
(many per intent and language) and slot fillers (brands, categories, colours, sizes, prices,
order numbers, problems...); it fills them with a seeded generator, adds realistic noise
(typos, odd casing, stray punctuation, polite prefixes, English brand and category names inside
Chinese queries), drops lines that are equal up to case, spaces and punctuation, and splits
70/15/15 stratified by label and language. Regenerate with

    node --import tsx scripts/make-intent-dataset.ts --seed ${seed}

which reproduces these files byte for byte. No text was taken from other datasets or from users.

Labels: ${INTENT_LABELS.map((l) => `\`${l}\``).join(', ')}.
\`other\` is chit-chat, greetings, account and off-topic questions. A product search may carry a
price ceiling ("red nike running shoes under $80") and stays \`product_search\`; \`price_deal\`
is about discounts, sales, coupons and the cheapest option.

## Counts (seed ${seed})

${all.length} lines, ${zh} of them Chinese (${((100 * zh) / all.length).toFixed(1)}%).

| label | train | val | test | total | en | zh |
| --- | --- | --- | --- | --- | --- | --- |
${INTENT_LABELS.map((l) => row(l, (n) => splits[n].filter((r) => r.label === l))).join('\n')}
${row('**all**', (n) => splits[n])}

## Licence

Same as the project (MIT, see the repository's package.json).

## Caveats

- Template data is easier than real traffic: phrasings repeat their template's skeleton, so
  held-out accuracy here overstates accuracy on real queries. Fine-tune on your own labelled
  queries (same JSONL format) before trusting the numbers.
- Splits share templates (only exact lines are kept apart), so the test split measures
  generalisation over fillers and noise, not over new phrasings.
- Labels follow the rules above; real queries are often ambiguous between \`product_search\`,
  \`price_deal\` and \`brand_navigation\`, and a classifier trained here will not know a shop's
  own conventions.
- Chinese lines are Simplified Chinese, typed-style; no Traditional Chinese, no pinyin input.
`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seed: { type: 'string' }, out: { type: 'string' } } });
  const seed = values.seed === undefined ? DEFAULT_SEED : Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);
  const out = path.resolve(values.out ?? path.join(path.dirname(new URL(import.meta.url).pathname), '../datasets/intents'));
  const splits = makeIntentDataset(seed);
  fs.mkdirSync(out, { recursive: true });
  for (const n of ['train', 'val', 'test'] as const) {
    fs.writeFileSync(path.join(out, `${n}.jsonl`), splits[n].map((r) => JSON.stringify(r)).join('\n') + '\n');
  }
  fs.writeFileSync(path.join(out, 'README.md'), readme(splits, seed));
  process.stdout.write(`wrote ${out}: ${Object.entries(splits).map(([k, v]) => `${k} ${v.length}`).join(', ')}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
