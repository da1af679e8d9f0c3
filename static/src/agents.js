// Fields that depend on another control's value, for the agent forms (and any form that
// wants it): <fieldset data-show-when="kind=http"> is shown and enabled only while the
// form's control named "kind" has the value "http" ("kind=http,openai": any of them). A
// disabled fieldset is neither validated nor sent, so the hidden kinds' required fields
// never block the form. Without this script the server renders the chosen kind's fields
// and a Continue button ([data-nojs]) that re-renders the form for another kind.
function update(form) {
	for (const el of form.querySelectorAll('[data-show-when]')) {
		const [name, values = ''] = el.dataset.showWhen.split('=');
		const control = form.elements.namedItem(name);
		if (!control || control instanceof RadioNodeList) continue;
		const on = values.split(',').includes(control.value);
		el.hidden = !on;
		if (el instanceof HTMLFieldSetElement) el.disabled = !on;
	}
}

function start() {
	for (const form of document.querySelectorAll('form')) {
		if (!form.querySelector('[data-show-when]')) continue;
		for (const el of form.querySelectorAll('[data-nojs]')) el.hidden = true;
		form.addEventListener('change', (e) => {
			if (e.target instanceof HTMLSelectElement || e.target.type === 'radio') update(form);
		});
		update(form);
	}
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
