/**
 * First run: the UU PDP notice, :shell's [id.go.hadir.shell.Consent] sections (who
 * collects what, why, how long, the person's rights), then "Saya setuju". Nothing is
 * collected before it; [onAccepted] runs once the answer is stored.
 */
package id.go.hadir.app.ui.consent

import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import id.go.hadir.app.R
import id.go.hadir.app.ui.common.BigButton
import id.go.hadir.app.ui.common.HadirScaffold
import id.go.hadir.app.ui.common.ScreenColumn
import id.go.hadir.app.ui.common.SectionCard

/** The consent screen. */
@Composable
fun ConsentScreen(viewModel: ConsentViewModel, onAccepted: () -> Unit) {
    val accepted by viewModel.accepted.collectAsStateWithLifecycle()
    LaunchedEffect(accepted) { if (accepted) onAccepted() }
    HadirScaffold(title = stringResource(R.string.consent_title), onBack = null) { padding ->
        ScreenColumn(padding, Modifier.verticalScroll(rememberScrollState())) {
            for (section in viewModel.sections) {
                SectionCard(section.title) {
                    Text(section.body, style = MaterialTheme.typography.bodyLarge)
                }
            }
            BigButton(stringResource(R.string.consent_agree), { viewModel.accept() }, enabled = !accepted)
        }
    }
}
